-- A browser-like GET for wrk, and a machine-readable summary.
-- BENCH_PATH: request path (default /api/users/1); BENCH_CLOSE=1: one connection per request.

wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH") or "/api/users/1"
wrk.headers["Host"] = "api.example.com"
wrk.headers["User-Agent"] =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
wrk.headers["Accept-Language"] = "en-US,en;q=0.9,ja;q=0.8"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
wrk.headers["Referer"] = "https://www.example.com/account"
wrk.headers["Cookie"] = "session=6f1c2a9e0b7d4e5f8a3c; theme=dark"
wrk.headers["Sec-Fetch-Mode"] = "navigate"
if os.getenv("BENCH_CLOSE") == "1" then
  wrk.headers["Connection"] = "close"
end

-- One line the script parses: requests/s, latency percentiles in microseconds, errors.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.0f p50_us=%d p99_us=%d requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
