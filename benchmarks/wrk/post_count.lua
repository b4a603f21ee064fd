-- POST one CDS Hooks request, read from a file, until each wrk thread has had LIMIT answers.
--   wrk -t T -d <long> -s benchmarks/wrk/post_count.lua URL -- BODY_FILE LIMIT
-- wrk runs for its whole -d duration whatever a script does, so each thread stops
-- sending and prints "benchmark-thread-done" once it has its answers; the caller then
-- sends wrk SIGINT, which ends the run early. At the end, one line
-- "benchmark-result {...}" with exact figures (latencies in us).

-- Everything but the count is post.lua's, loaded from beside this file; a separate script
-- because wrk hands each answer to Lua only when the script defines response(), which
-- costs the fixed-time runs throughput.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "post.lua")

local limit = 0
local answered = 0
local post_init = init

function init(args)
  post_init(args)
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
