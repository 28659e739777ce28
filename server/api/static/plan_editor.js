// A resident's own response plans (templates/_plan_form.html): filled from GET .../plans,
// sent as PUT .../plans/{kind}. Used by the console's panel and the admin page.
"use strict";

const planEditor = (() => {
  const { $, api, kindWords } = carewatch;
  const form = { residentId: null, name: "", plans: [], onSaved: () => {} };

  function showKind() {
    const plan = form.plans.find((p) => p.kind === $("pl-kind").value);
    if (!plan) return;
    $("pl-steps").value = plan.own_steps.join("\n");
    $("pl-state").textContent = plan.own
      ? `${kindWords(plan.kind)}: ${form.name}'s own plan.`
      : `${kindWords(plan.kind)}: ${form.name} follows the default plan.`;
    $("pl-default").replaceChildren(...plan.default_steps.map((words) => {
      const li = document.createElement("li");
      li.textContent = words;
      return li;
    }));
    $("pl-default-button").disabled = !plan.own;
  }

  // The plans of a resident; ``kind`` is chosen first (the alert's kind, on the console).
  function fill(residentId, name, plans, kind = null) {
    Object.assign(form, { residentId, name, plans });
    $("pl-error").textContent = "";
    $("pl-kind").replaceChildren(...plans.map((p) => {
      const option = document.createElement("option");
      option.value = p.kind;
      option.textContent = `${kindWords(p.kind)}${p.own ? " (their own plan)" : ""}`;
      return option;
    }));
    if (kind && plans.some((p) => p.kind === kind)) $("pl-kind").value = kind;
    showKind();
  }

  async function load(residentId, name, kind = null) {
    const plans = await api(`/api/v1/residents/${residentId}/plans`);
    fill(residentId, name, plans, kind);
    return plans;
  }

  async function send(steps) {
    const kind = $("pl-kind").value;
    try {
      const saved = await api(`/api/v1/residents/${form.residentId}/plans/${kind}`, { method: "PUT", body: { steps } });
      form.plans = form.plans.map((p) => (p.kind === kind ? saved : p));
      fill(form.residentId, form.name, form.plans, kind);
      form.onSaved(form.residentId, form.name, saved);
    } catch (error) {
      $("pl-error").textContent = `Not saved: ${error.message}`;
    }
  }

  function setUp(onSaved) {
    form.onSaved = onSaved;
    $("pl-kind").addEventListener("change", showKind);
    $("plan-form").addEventListener("submit", (event) => {
      event.preventDefault();
      send($("pl-steps").value.split("\n").map((s) => s.trim()).filter(Boolean));
    });
    $("pl-default-button").addEventListener("click", () => send([]));
  }

  return { fill, load, setUp };
})();
