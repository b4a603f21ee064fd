-- POST one CDS Hooks request, read from a file, until each wrk thread has had LIMIT answers.
--   wrk -t T -d <long> -s benchmarks/wrk/post_count.lua URL -- BODY_FILE LIMIT
-- wrk runs for its whole -d duration whatever a script does, so each thread stops
-- sending and prints "benchmark-thread-done" once it has its answers; the caller then
-- sends wrk SIGINT, which ends the run early. At the end, one line
-- "benchmark-result {...}" with exact figures (latencies in us).

-- Each request is the body again with a hookInstance of its own and one of 1,000 patients in
-- turn (the same record under another id), as an EHR's calls come: the same instance every
-- time would have the service hold its cards back as already shown in that call, and one
-- patient called tens of thousands of times would have a card history no patient has.
-- benchmarks/patients.py (fresh_calls) does the same for the Python clients.
local PATIENTS = 1000
-- hookInstances are unique across runs too: each run of wrk (warm-up, every round) has its
-- own prefix from benchmarks/load.py. Numbered from 1 in every run, the instances came back
-- with the same patients, and the service held those cards as already shown (a repeat).
local RUN = os.getenv("BENCHMARK_RUN") or "00000000"
local parts, patient, sent, threads = nil, nil, 0, 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local function split(body, sep)
  local pieces, from = {}, 1
  while true do
    local first, last = body:find(sep, from, true)
    if not first then
      pieces[#pieces + 1] = body:sub(from)
      return pieces
    end
    pieces[#pieces + 1] = body:sub(from, first - 1)
    from = last + 1
  end
end

local function prepare(body)
  patient = body:match('"patientId"%s*:%s*"([^"]+)"')
  if patient and body:find('"hookInstance"%s*:%s*"[^"]*"') then
    parts = split(body, patient)
  end
end

function request()
  if not parts then
    return wrk.format()
  end
  sent = sent + 1
  local body = table.concat(parts, string.format("%s-%04d", patient, sent % PATIENTS))
  local instance = string.format(
    '"hookInstance": "%s-%04x-4000-8000-%012x"', RUN, thread_number or 0, sent)
  body = body:gsub('"hookInstance"%s*:%s*"[^"]*"', instance, 1)
  return wrk.format(nil, nil, nil, body)
end

local limit = 0
local answered = 0

function init(args)
  local file = assert(io.open(args[1], "rb"), "cannot open the request body file")
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
  prepare(wrk.body)
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
