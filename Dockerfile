FROM python:3.11-slim
RUN useradd --create-home carewatch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY edge edge
COPY server server
COPY firmware_sim firmware_sim
RUN pip install --no-cache-dir '.[server,sim]'
USER carewatch
EXPOSE 8000
CMD ["carewatch", "server"]
