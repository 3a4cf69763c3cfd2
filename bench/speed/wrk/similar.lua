-- GET /api/v1/books/{id}/similar/ for a random book with a vector.
dofile(os.getenv("BOOKVEC_WRK_COMMON"))

function request()
  return wrk.format("GET", "/api/v1/books/" .. random_book() .. "/similar/")
end
