-- Plain load: wrk repeats the request of its command line (method GET unless -M/-H change
-- it) and done() prints the JSON summary of common.lua.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
