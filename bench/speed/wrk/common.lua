-- Shared by the Bookvec wrk scripts: book ids to draw from, a seeded generator per thread, and a JSON
-- summary line (requests, errors, latency percentiles in microseconds) printed when the run ends.
-- BOOKVEC_WRK_IDS names a Lua file that sets the global `book_ids` (bench/http_load.py writes it).
dofile(os.getenv("BOOKVEC_WRK_IDS"))

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(1000 + (thread_number or 0))
end

function random_book()
  return book_ids[math.random(#book_ids)]
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '\nBOOKVEC_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
