"""One router per area of the web application; each route reads its input, calls the
Python API once and renders a template."""
