-- wrk script: the gateway's POST, the same for every contender, and a JSON summary.
-- Environment: BENCH_TOKEN (sent as a Bearer token, never printed), BENCH_N (images asked
-- for), BENCH_STAGGER_MS and BENCH_CONNECTIONS (spread each connection's first request
-- evenly over BENCH_STAGGER_MS, so a slow upstream sees a steady rate, not waves).

wrk.method = "POST"
wrk.body = string.format('{"prompt": "a lighthouse at dusk, oil painting", "n": %d}',
                         tonumber(os.getenv("BENCH_N") or "1"))
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")

local stagger_ms = tonumber(os.getenv("BENCH_STAGGER_MS") or "0")
local first_requests = tonumber(os.getenv("BENCH_CONNECTIONS") or "0")
local delayed = 0

if stagger_ms > 0 and first_requests > 0 then
   -- wrk calls delay() before every request; the first call per connection comes first.
   function delay()
      if delayed < first_requests then
         delayed = delayed + 1
         return math.floor((delayed - 1) * stagger_ms / first_requests)
      end
      return 0
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
end
