-- wrk script: POST /v1/inbound with a unique externalId per request and 1,000 distinct senders.
-- Env: SB_TOKEN (bearer token), SB_DELAY_MS (per-request pause of each connection, for a fixed rate).
local token = os.getenv("SB_TOKEN") or ""
local delay_ms = tonumber(os.getenv("SB_DELAY_MS") or "0")
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

function request()
  counter = counter + 1
  local id = string.format("bench-%d-%d-%d", thread_id, counter, math.random(1, 1000000000))
  local body = string.format('{"from":"bench-customer-%d","text":"My order %d has not arrived yet.","externalId":"%s"}',
    counter % 1000, counter, id)
  return wrk.format("POST", "/v1/inbound", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function delay()
  return delay_ms
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT requests=%d duration_s=%.2f rate=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
