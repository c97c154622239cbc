-- wrk script: POST /v1/inbound with a unique externalId per request and 1,000 distinct senders.
-- Env: SB_TOKEN (bearer token), SB_DELAY_MS (per-request pause of each connection, for a fixed rate).
local token = os.getenv("SB_TOKEN") or ""
local delay_ms = tonumber(os.getenv("SB_DELAY_MS") or "0")
-- Every id is new, so every request stores a message (a repeated id is answered without storing, a cheaper path):
-- `thread_id` is a global that setup() sets in each thread's own state, and the run's start time tells runs apart.
local counter = 0
local threads = 0
thread_id = 0
local run = os.time()

function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local id = string.format("bench-%d-%d-%d", run, thread_id, counter)
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
