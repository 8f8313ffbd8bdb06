#!/usr/bin/env bash
# Starts examples/Serving on 127.0.0.1 (training Iris and saving its weights), runs bench/ServeLoad against it
# (8 clients × 10,000 requests by default, at most 300 s), then stops the server. Usage: bench/serve-load.sh [CLIENTS] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
port=5087
weights=$(mktemp --suffix=.safetensors)
for project in examples/Serving bench/ServeLoad; do dotnet build -c Release "$project" -v quiet -nologo >/dev/null; done
dotnet examples/Serving/bin/Release/net10.0/Serving.dll --save "$weights" --port "$port" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$weights"' EXIT
# The server saves the weights before it listens; ServeLoad waits for /health.
while [ ! -s "$weights" ]; do sleep 0.5; done
dotnet bench/ServeLoad/bin/Release/net10.0/ServeLoad.dll --url "http://127.0.0.1:$port" --weights "$weights" --clients "${1:-8}" --requests "${2:-10000}"
