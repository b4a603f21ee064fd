-- POST one CDS Hooks request, read from a file, until each wrk thread has had LIMIT answers.
--   wrk -t T -d <long> -s benchmarks/wrk/post_count.lua URL -- BODY_FILE LIMIT
-- wrk runs for its whole -d duration whatever a script does, so each thread stops
-- sending and prints "benchmark-thread-done" once it has its answers; the caller then
-- sends wrk SIGINT, which ends the run early. At the end, one line
-- "benchmark-result {...}" with exact figures (latencies in us).

local limit = 0
local answered = 0

function init(args)
  local file = assert(io.open(args[1], "rb"), "cannot open the request body file")
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
  limit = tonumber(args[2])
end

function response(status, headers, body)
  answered = answered + 1
  if answered == limit then
    io.write("benchmark-thread-done\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'benchmark-result {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
