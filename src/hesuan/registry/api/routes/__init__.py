"""One router per area; each route parses, calls one service method, returns its result."""
