#!/usr/bin/env bash
# Smoke test of the container image, for machines with a Docker engine (CI here has none; see
# docs/deployment.md): build the image, run it on its embedded SQLite database, wait for /ready, send one
# /v1 request to the built-in mock model, check the console is served, stop it the way an orchestrator does
# (SIGTERM) and check it exited cleanly.
#   scripts/smoke-image.sh [IMAGE_TAG]
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-aihub:smoke}"
name="aihub-smoke-$$"
port="${SMOKE_PORT:-39123}"
master="smoke-master-key-0123456789abcdef"

cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "[smoke] building $tag"
docker build -t "$tag" .
size=$(docker image inspect "$tag" --format '{{.Size}}')
echo "[smoke] image size: $((size / 1024 / 1024)) MiB (target: at most 250)"

echo "[smoke] starting"
docker run -d --name "$name" -p "127.0.0.1:$port:3000" -e AIHUB_MASTER_KEY="$master" "$tag" >/dev/null
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then break; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/ready"; echo
[ "$(docker inspect "$name" --format '{{.Config.User}}')" = "node" ] || { echo "[smoke] image runs as root"; exit 1; }

echo "[smoke] one /v1 request to the built-in mock"
answer=$(curl -fsS "http://127.0.0.1:$port/v1/chat/completions" \
  -H "authorization: Bearer $master" -H 'content-type: application/json' \
  -d '{"model":"mock-gpt","messages":[{"role":"user","content":"Hello"}]}')
echo "$answer" | grep -q '"chat.completion"' || { echo "[smoke] unexpected answer: $answer"; exit 1; }
curl -fsS "http://127.0.0.1:$port/" | grep -qi '<!doctype html>' || { echo "[smoke] console not served"; exit 1; }

echo "[smoke] stopping (SIGTERM)"
docker stop -t 35 "$name" >/dev/null
code=$(docker inspect "$name" --format '{{.State.ExitCode}}')
[ "$code" = "0" ] || { echo "[smoke] exit code $code"; docker logs "$name" | tail -20; exit 1; }
echo "[smoke] passed"
