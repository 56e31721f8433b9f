-- wrk script for `scripts/bench-serve.sh`: POSTs single-work /v1/predict bodies read from
-- $BODIES (one JSON body per line) in turn, waits $DELAY_MS between the requests of each
-- connection (0: back to back), counts non-200 answers, and prints latency percentiles.

local bodies = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("BODIES")
  for line in io.lines(path) do
    table.insert(bodies, line)
  end
  next_body = 1
  failures = 0
  delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
  wrk.method = "POST"
  wrk.path = "/v1/predict"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, body)
end

function delay()
  return delay_ms
end

function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("requests %d in %.1f s = %.0f req/s; non-200 %d; socket errors %d\n",
    summary.requests, seconds, summary.requests / seconds, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency p%s %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("latency max %.2f ms\n", latency.max / 1000))
end
