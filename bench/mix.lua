-- wrk script for bench/load.py: every connection walks the page paths given after `--` in
-- turn (each from its own starting point), sending Accept-Encoding: gzip as browsers do, and
-- prints one machine-readable line after the run, like report.lua.
local paths = {}
local counter = 0

init = function(args)
  for _, path in ipairs(args) do paths[#paths + 1] = path end
  counter = math.random(#paths)
end

request = function()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter], {["Accept-Encoding"] = "gzip"})
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
