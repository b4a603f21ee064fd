-- POST one CDS Hooks request, read from a file, on every connection, for a fixed time.
--   wrk -s benchmarks/wrk/post.lua --latency URL -- BODY_FILE
-- At the end, one line "benchmark-result {...}" with exact figures (latencies in us).

function init(args)
  local file = assert(io.open(args[1], "rb"), "cannot open the request body file")
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'benchmark-result {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
