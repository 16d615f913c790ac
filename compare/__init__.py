"""The comparison page: several finished runs side by side under one step control (`generate.py compare`).

    index = compare.stage.run([Path("build-a"), Path("build-b")], Path("site-compare"), align="step")

It reads what the stages already wrote into each build folder (the capture through capture/, the render
manifest and the explorer's data chunks from build/assets/) and analyses each capture again
(report/numbers/analysis.py), like report/stage.py does for the article; it imports no other stage. The page
is written into a folder of its own kind (pipeline/ownership.py's COMPARE), built beside it and swapped in whole.

- `runs.py` checks each build folder (a finished capture, assets rendered from it) and loads it;
- `align.py` maps the one control's positions to each run's snapshot (by step, or by fraction of training);
- `curves.py` draws the runs' loss and accuracy curves overlaid, as inline-SVG geometry;
- `differences.py` puts the runs' findings side by side: the numbers of the table of differences;
- `stage.py` writes the page (templates/compare.html.j2, templates/static/compare.*);
- `cli.py` is the `compare` subcommand's arguments and checks.
"""
