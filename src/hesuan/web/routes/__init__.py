"""One router per area of the web application.

Each route reads its input, calls the Python API once and renders a template.
"""
