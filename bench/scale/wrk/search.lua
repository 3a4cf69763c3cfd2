-- GET /api/v1/books/?search=<words of a random book's title> (BOOKVEC_WRK_IDS also sets `queries`).
dofile(os.getenv("BOOKVEC_WRK_COMMON"))

function request()
  local query = queries[math.random(#queries)]:gsub(" ", "%%20")
  return wrk.format("GET", "/api/v1/books/?search=" .. query)
end
