-- GET /books/{id}/: the book page (HTML) of a random book.
dofile(os.getenv("BOOKVEC_WRK_COMMON"))

function request()
  return wrk.format("GET", "/books/" .. random_book() .. "/")
end
