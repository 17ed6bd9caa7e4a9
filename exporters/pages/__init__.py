"""Facts of whole pages: `exporters/pages/<page>.py` (named after article/pages/<page>.md.j2) holds
`facts(pages) -> dict`, the numbers and booleans that page's prose states or branches on where they
combine several figures. `pages` gives data(fid, section), facts(fid, section) and has(section).
A page template calls `page_facts()`; it interpolates and branches on booleans, and computes nothing.
"""
