"""Gather the article's context and the files it links, for report/stage.py to write.

`assemble(capture, manifest, layout, staging, date)` analyses the capture, writes the small
generated figures and data files into `staging`, and returns (context, copies) where copies are
(source path, path relative to the site) pairs of rendered assets. The context holds data only;
templates/ owns the words that do not depend on the run (the downloads' labels and the layers' noun here are
macros of templates/words/page.txt.j2).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from report.capture_facts import is_article, model_info, recorded_layers
from report.figure_cache import FigureCache
from report.findings_cache import cached_findings, manifest_scales
from report.page.appendix import download, rebuild_command, reproducibility_facts
from report.page.explorer import channel_links, explorer_context
from report.page.figure_files import (
    STORY_FILE,
    write_analysis_figures,
    write_channel_story,
    write_probe_strip,
    write_xor_figure,
)
from report.page.layer_views import layer_views
from report.page.moment import moment_context
from report.page.public_paths import placeholders, public_config, public_meta
from report.page.robustness import measured_on, research_table, uncertain_labels, variant_rows
from report.page.sections import (
    ASSETS,
    asset_src,
    curves_section,
    experiment_section,
    layer_section,
    linked_assets,
    reading_section,
    why_section,
)
from report.page.seeds import seeds_context
from report.page.this_run import this_run_context
from report.published_model import write_published_model
from report.voice import edition, long_date, say
from report.words.commentary import commentary
from report.words.dataset_text import data_title, dataset_notice, subject
from report.words.wording import number, ordinal, percent


def assemble(capture, manifest: dict, layout, staging: Path, date: datetime.date | None, sweep_dir: Path | None = None,
             compared: dict | None = None, first: dict | None = None) -> tuple[dict, list]:
    """Return the template context and the asset copies for one run (`compared`: report/page/compared.py's).

    first: for an edition after the first, {"assets": the first's assets folder, "findings": its findings}: the
    findings are not read again, the SVG figures are the first's relabelled, and the findings and model files it
    wrote are the ones linked (context["findings"] gives them to the next edition)."""
    (staging / ASSETS).mkdir(parents=True, exist_ok=True)
    from pipeline.config import Config

    date = long_date(date)  # the day (report/stage.py build_date) as this edition writes it

    # Fields an older (or a test's) config lacks read as their defaults, which is what the run used.
    # The page shows no path of the builder's machine: public_meta/public_config (the archive keeps the real ones).
    config, meta = {**Config().to_dict(), **capture.config}, public_meta(capture.meta)
    command_config = public_config(config)
    article = is_article(meta)
    model = model_info(meta)
    drawn = first["assets"] if first else None
    findings = first["findings"] if first else cached_findings(capture, layout, manifest_scales(manifest))
    dataset = meta["dataset"]
    said = commentary(findings, article=article, dataset=dataset)
    findings_path = (drawn or staging / ASSETS) / "findings.json"
    figures = None  # the first edition draws its figures, or reads them back from the build folder's cache
    if not first:
        findings_text = findings.to_json()
        findings_path.write_text(findings_text)
        figures = FigureCache.open(layout.build_dir, findings_text, capture.train_loss, article, edition())
    xor_facts = write_xor_figure(staging / ASSETS / "xor.svg", drawn, figures)
    probes_size = write_probe_strip(capture.probe_images, staging / ASSETS / "probes.png")
    analysis_figures = write_analysis_figures(findings, capture.train_loss, staging / ASSETS, article=article,
                                              drawn=drawn, cache=figures)
    if figures is not None:
        figures.save()
    model_copy = (drawn or staging / ASSETS) / "model.keras"
    if not first:
        write_published_model(layout.model, model_copy)  # without the optimizer's state (report/published_model.py)

    layers = [dict(layer_section(entry, said_layer, manifest), analysis=view)
              for entry, said_layer, view in zip(manifest["layers"], said["layers"],
                                                 layer_views(said["layers"], analysis_figures))]
    explore = manifest["explore"]
    # The curves' grey band is the loss plateau the text, the jump button and the settling figure speak of
    # (findings), not the renderer's accuracy-based estimate, so that one page gives one plateau.
    plateau_end = int(findings.run.plateau.steps)
    explorer = explorer_context(findings, json.loads((layout.assets / explore["meta"]["path"]).read_text()),
                                plateau_end, f"{ASSETS}/")
    if not first:  # one story.js serves every edition: numbers and file names only
        write_channel_story(capture, findings, staging / ASSETS)
    explorer["story"] = STORY_FILE  # relative to the explorer's data base, as its chunks are
    for layer, numbers in zip(layers, findings.layers):
        layer["rows"] = explorer["rows"][layer["name"]]
        layer["uncertain"] = uncertain_labels(numbers)
        look_for = (layer.get("analysis") or {}).get("look_for")
        layer["look_for_links"] = channel_links(look_for, layer["name"], layer["channels"]) if look_for else None
    recorded = recorded_layers(capture)
    kinds = {row["kind"] for row in recorded}
    page = {
        "article": article, "model": model,
        "layer_noun": say("page", "layer_noun", kind=next(iter(kinds)) if len(kinds) == 1 else None),
        "layer_noun_one": say("page", "layer_noun_one", kind=next(iter(kinds)) if len(kinds) == 1 else None),
        "every_ordinal": ordinal(config["capture_every"]) if config["capture_every"] > 1 else None,
        "data_title": data_title(dataset), "nouns": subject(dataset), "steps": config["steps"],
        "layer_count_word": number(len(layers)), "probe_count_word": number(len(capture.probe_labels)),
        "final_accuracy": percent(meta["final_test_accuracy"], 1),
        "notice": dataset_notice(dataset, meta["final_test_accuracy"]), "date": date,
    }
    curves = manifest["curves"]
    colorbar = manifest["layers"][0]["files"]["colorbar"]
    appendix = {
        "command": rebuild_command(command_config), "placeholders": placeholders(command_config),
        "facts": reproducibility_facts(command_config, meta, date, model),
        "thresholds": said["thresholds"],
        "bounded": any(layer.regime == "bounded" for layer in findings.layers),
        "unbounded": any(layer.regime != "bounded" for layer in findings.layers),
        "downloads": [
            download(say("page", "model_download"), f"{ASSETS}/model.keras", model_copy.stat().st_size),
            download(say("page", "findings_download"), f"{ASSETS}/findings.json", findings_path.stat().st_size),
            download(say("page", "curves_download"), asset_src(curves["png"]["path"]), curves["png"]["bytes"]),
        ],
        "data_credit": dataset["name"] if dataset["name"] in ("fashion", "cifar10", "cifar100") else
        "mnist" if dataset["name"] in ("mnist", "bundled", "idx") else "other",
        "data_title": data_title(dataset), "data_source": dataset["source"],
    }
    context = {
        "page": page, "layers": layers, "explorer": explorer,
        "moment": moment_context(capture, manifest, findings, staging / ASSETS, (first or {}).get("moment")),
        "og_image": dict(layers[0]["poster"], name=layers[0]["name"]),
        "why": why_section(xor_facts),
        "experiment": experiment_section(capture, config, meta, probes_size),
        "reading": reading_section(manifest, asset_src(colorbar["path"]), colorbar, article),
        "curves": curves_section(said, curves, asset_src(curves["svg"]["path"]), meta["final_test_accuracy"], meta,
                                 config["batch_size"], capture.train_loss),
        "conclusions": {"verdicts": [dict(item, variants=variant_rows(numbers)) for item, numbers in
                                     zip(said["conclusions"], (findings.run.conclusion_1, findings.run.conclusion_2,
                                                               findings.run.conclusion_3))]},
        "measured": measured_on(findings, capture.meta),
        "research": research_table(findings),
        "settling": analysis_figures["settling"],
        "appendix": appendix,
        "seeds": seeds_context(config, sweep_dir),
        "compared": compared, "findings": findings,
        "this_run": this_run_context(capture, findings, config, meta, layout.model, compared),
    }
    return context, [(layout.assets / name, asset_src(name)) for name in linked_assets(manifest)]
