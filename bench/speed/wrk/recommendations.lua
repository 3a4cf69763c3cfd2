-- POST /api/v1/recommendations/ with 5 distinct random books.
dofile(os.getenv("BOOKVEC_WRK_COMMON"))

local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}

function request()
  local chosen, seen = {}, {}
  while #chosen < 5 do
    local id = random_book()
    if not seen[id] then
      seen[id] = true
      table.insert(chosen, id)
    end
  end
  return wrk.format("POST", "/api/v1/recommendations/", headers, '{"books": [' .. table.concat(chosen, ",") .. '], "k": 20}')
end
