-- GET one fixed path (BOOKVEC_WRK_PATH), e.g. /api/v1/health/.
dofile(os.getenv("BOOKVEC_WRK_COMMON"))

local path = os.getenv("BOOKVEC_WRK_PATH")

function request()
  return wrk.format("GET", path)
end
