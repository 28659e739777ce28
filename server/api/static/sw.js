// The carer's phone: show carewatch's pushed alerts, and open the one-tap link when tapped.
"use strict";

self.addEventListener("push", (event) => {
  let message = { title: "carewatch", body: "" };
  try { message = event.data ? event.data.json() : message; } catch (error) { message.body = event.data.text(); }
  event.waitUntil(self.registration.showNotification(message.title, {
    body: message.body, tag: message.title, renotify: true, requireInteraction: true,
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  // The message carries its one-tap acknowledge link; without one, the carer's page.
  const link = (event.notification.body.match(/https?:\/\/\S+\/ack\/\S+/) || ["/carer"])[0];
  event.waitUntil(self.clients.openWindow(link));
});
