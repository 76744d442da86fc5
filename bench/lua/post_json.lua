-- POSTs JSON bodies taken from a file of one body per line: every request takes the next
-- line, so that each request can carry a distinct pass. Thread i of n takes lines i, i+n,
-- i+2n... so threads never share a line. A thread that runs out of lines stops (done()
-- reports it as "exhausted_threads"): give the file more lines than the run can send.
--
-- Every request also gets an "Idempotency-Key" header unique to the request, shaped as a
-- UUID: "<key_prefix>-8<thread, 3 hex>-<counter, 12 hex>". Static headers (Authorization…)
-- come from wrk's -H options.
--
-- Arguments (key=value after "--"): bodies=<file> path=<request path>
-- key_prefix=<first 18 characters of a UUID, e.g. "1b4e28ba-2fa1-41d2"> threads=<wrk -t>.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local bodies, path, key_prefix = {}, "/", "00000000-0000-4000"
local next_index = 1
-- wrk calls request() once in thread 0's state before the run, to check the request (it
-- counts pipelined requests in it) and never sends that one: it must not use up a line.
-- Set in init(), as thread_id is not known yet when the file loads.
local verified = true
exhausted = 0

function init(args)
  local options = parse_args(args)
  path = options.path or path
  key_prefix = options.key_prefix or key_prefix
  local nthreads = tonumber(options.threads or "1")
  local file = assert(io.open(assert(options.bodies, "bodies=<file> is required"), "r"))
  local line_number = 0
  for line in file:lines() do
    if line ~= "" then
      if line_number % nthreads == thread_id then table.insert(bodies, line) end
      line_number = line_number + 1
    end
  end
  file:close()
  verified = thread_id ~= 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function build(index)
  -- wrk.format() replaces wrk.headers by a headers table given to it, which would drop the
  -- -H headers: the key goes into wrk.headers instead.
  wrk.headers["Idempotency-Key"] = string.format("%s-8%03x-%012x", key_prefix, thread_id, index)
  return wrk.format(nil, path, nil, bodies[index] or "{}")
end

function request()
  if not verified then
    verified = true
    return build(1)
  end
  if bodies[next_index] == nil then
    -- Out of lines: stop this thread and send nothing rather than reuse a body.
    exhausted = 1
    wrk.thread:stop()
    return ""
  end
  next_index = next_index + 1
  return build(next_index - 1)
end
