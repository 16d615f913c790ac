// start_browser: run before every page's own scripts; the default resource-timing buffer holds only 250 entries.
try { performance.setResourceTimingBufferSize(100000); } catch (e) {}
