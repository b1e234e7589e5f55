-- wrk script for benchmarks/rush_bench.py: one JSON line of figures when the run is done.
-- With RUSH_USERS=<file> (lines "cookie<TAB>form body"; cookie "-" for none), each request
-- is a registration POST by the next person of this thread's share; a thread stops when its
-- share is used up, so nobody registers twice. RUSH_THREADS must equal wrk's --threads.
local users_file = os.getenv("RUSH_USERS")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  people = {}
  next_person = 1
  nthreads = tonumber(os.getenv("RUSH_THREADS") or "1")
  if users_file then
    local i = 0
    for line in io.lines(users_file) do
      if i % nthreads == tid then
        local cookie, body = line:match("([^\t]+)\t([^\t]+)")
        table.insert(people, {cookie = cookie, body = body})
      end
      i = i + 1
    end
  end
end

function request()
  if users_file then
    local p = people[next_person]
    if p == nil then
      wrk.thread:stop()
      return wrk.format("GET", "/__rush_done__")
    end
    next_person = next_person + 1
    local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
    if p.cookie ~= "-" then headers["Cookie"] = p.cookie end
    return wrk.format("POST", wrk.path, headers, p.body)
  end
  return wrk.format(nil, wrk.path)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do counts[k] = (counts[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(counts) do table.insert(parts, string.format('"%d": %d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'RUSHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
    e.timeout, table.concat(parts, ", ")))
end
