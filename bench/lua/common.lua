-- Shared part of the benchmark scripts: thread numbering, status counting and a JSON
-- summary printed by done(). A script includes it with
--   dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
-- and may then define init()/request(); it must not redefine setup(), response() or done().
--
-- bench.toolkit.run_wrk reads the line starting with "WRK_JSON " that done() prints.

local threads = {}

-- Runs in the main Lua state, once per thread, before the thread's init(): numbers the
-- threads so that each one can take its own share of a body file.
function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

-- Per-thread counts by HTTP status; done() adds the threads' tables up.
statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- Script arguments come as key=value pairs after "--" on wrk's command line.
function parse_args(args)
  local options = {}
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([%w_]+)=(.*)$")
    if key then options[key] = value end
  end
  return options
end

local function ms(us) return us / 1000.0 end

function done(summary, latency, requests)
  local by_status, non_2xx, exhausted = {}, 0, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      by_status[status] = (by_status[status] or 0) + count
      if status < 200 or status > 299 then non_2xx = non_2xx + count end
    end
    exhausted = exhausted + (thread:get("exhausted") or 0)
  end
  local status_parts = {}
  for status, count in pairs(by_status) do
    table.insert(status_parts, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write("WRK_JSON ", string.format(
    '{"requests": %d, "duration_s": %.3f, "rps": %.3f, "bytes": %d, ' ..
    '"p50_ms": %.3f, "p75_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "p999_ms": %.3f, ' ..
    '"mean_ms": %.3f, "max_ms": %.3f, "non_2xx": %d, "socket_errors": {"connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d}, "errors": %d, "exhausted_threads": %d, ' ..
    '"status": {%s}}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    ms(latency:percentile(50)), ms(latency:percentile(75)), ms(latency:percentile(90)),
    ms(latency:percentile(99)), ms(latency:percentile(99.9)), ms(latency.mean), ms(latency.max),
    non_2xx, e.connect, e.read, e.write, e.timeout, non_2xx + socket_errors, exhausted,
    table.concat(status_parts, ", ")))
end
