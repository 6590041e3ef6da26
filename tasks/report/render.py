"""The report rendered: Markdown (HTML escaped: viewers render raw HTML) and one self-contained
HTML page (style inline, no link, script, image or font fetched) that prints well.

Printed (A4), every page carries a header with the installation and the change number and a
footer with the page number (CSS margin boxes); each of the four parts starts on a new
page; a table row is never split across pages and a table's header repeats on each page it
spans; headings stay with what follows them.
"""

from __future__ import annotations

import html

from tasks.report.document import Block, Report


def _md(value: str) -> str:
    return html.escape(value, quote=False)


def md_cell(value: str) -> str:
    return _md(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def render_markdown(report: Report) -> str:
    out = [
        f"# {_md(report.title)}",
        "",
        f"**{_md(report.page_header)}** · exported {_md(_utc(report.generated_at))}"
        + (f" by {_md(report.generated_by)}" if report.generated_by else ""),
        "",
    ]
    for n, part in enumerate(report.parts, 1):
        out += [f"## Part {n}. {_md(part.title)}", ""]
        for section in part.sections:
            out += [f"### {_md(section.title)}", ""]
            for block in section.blocks:
                out += _md_block(block) + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def _md_block(b: Block) -> list[str]:
    if b.kind == "p":
        return [_md(b.text)]
    if b.kind == "lead":
        return [f"**{_md(b.text)}**"]
    if b.kind == "kv":
        return [f"- **{_md(k)}**: {_md(v)}" for k, v in b.pairs]
    if b.kind == "list":
        return [f"- {_md(item)}" for item in b.items]
    if b.kind == "table":
        lines = ["| " + " | ".join(md_cell(h) or " " for h in b.headers) + " |"]
        lines.append("|" + "---|" * len(b.headers))
        lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in b.rows]
        return lines
    return []


def _utc(value: str) -> str:
    from tasks.report.words import when

    return when(value)


def css_string(value: str) -> str:
    """``value`` as a CSS string literal: anything but letters, digits and a few marks is a
    hex escape, so no quote, backslash or ``</style>`` can end it. (Spaces too: a space
    after an escape would be read as the escape's end.)"""
    safe = ".,-:#()"
    return '"' + "".join(c if c.isalnum() or c in safe else f"\\{ord(c):06x}" for c in value) + '"'


_CSS = """
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:2em auto;
max-width:72em;color:#1b1b1b;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;border-bottom:2px solid #333;margin-bottom:.2em}
p.meta{color:#444;margin-top:0}
h2{margin-top:1.8em;border-bottom:1px solid #999;font-size:1.35em}
h3{margin:1.3em 0 .4em;font-size:1.1em}
p.lead{font-size:1.05em;padding:.5em .7em;border-left:4px solid #333;background:#f3f3f3}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}
th,td{border:1px solid #c8c8c8;padding:.25em .45em;text-align:left;vertical-align:top;
overflow-wrap:break-word}
td.long{overflow-wrap:anywhere}
th{background:#eee}
table.kv th{width:16em;background:#f6f6f6;font-weight:600}
ul{margin:.3em 0 1em}
@page{size:A4;margin:18mm 13mm 16mm 13mm;
@top-left{content:HEADER;font:9pt system-ui,sans-serif;color:#333}
@top-right{content:"Change record";font:9pt system-ui,sans-serif;color:#666}
@bottom-left{content:FOOTER;font:8pt system-ui,sans-serif;color:#666}
@bottom-right{content:"Page " counter(page) " of " counter(pages);font:8pt system-ui,sans-serif;color:#333}}
@media print{
body{margin:0;max-width:none;padding:0;font-size:9.5pt}
section.part{break-before:page}
section.part:first-of-type{break-before:auto}
h1,h2,h3{break-after:avoid}
p.lead{break-inside:avoid}
tr,li{break-inside:avoid}
thead{display:table-header-group}
table{font-size:8.5pt}
table.kv th{width:12em}
}
"""


def _h(value: str) -> str:
    return html.escape(value, quote=True)


# A cell with a word this long (a path, a command's argument) may break anywhere; other
# cells break between words only, so narrow columns keep whole words.
_LONG_WORD = 24


def _td(value: str) -> str:
    if any(len(word) > _LONG_WORD for word in value.split()):
        return f'<td class="long">{_h(value)}</td>'
    return f"<td>{_h(value)}</td>"


def _html_block(b: Block) -> str:
    if b.kind == "p":
        return f"<p>{_h(b.text)}</p>"
    if b.kind == "lead":
        return f'<p class="lead"><strong>{_h(b.text)}</strong></p>'
    if b.kind == "kv":
        rows = "".join(f'<tr><th scope="row">{_h(k)}</th>{_td(v)}</tr>' for k, v in b.pairs)
        return f'<table class="kv"><tbody>{rows}</tbody></table>'
    if b.kind == "list":
        return "<ul>" + "".join(f"<li>{_h(i)}</li>" for i in b.items) + "</ul>"
    if b.kind == "table":
        head = "".join(f'<th scope="col">{_h(h)}</th>' for h in b.headers)
        body = "".join("<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in b.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return ""


def render_html(report: Report) -> str:
    exported = _utc(report.generated_at)
    footer = f"Exported {exported}" + (f" by {report.generated_by}" if report.generated_by else "")
    css = _CSS.replace("HEADER", css_string(report.page_header)).replace(
        "FOOTER", css_string(footer)
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(report.title)}</title>",
        f"<style>{css}</style></head><body>",
        f'<header><h1>{_h(report.title)}</h1><p class="meta"><strong>{_h(report.page_header)}'
        f"</strong> · {_h(footer.lower()[0] + footer[1:])}</p></header>",
    ]
    for n, part in enumerate(report.parts, 1):
        parts.append(f'<section class="part" id="part-{n}"><h2>Part {n}. {_h(part.title)}</h2>')
        for section in part.sections:
            parts.append(f"<section><h3>{_h(section.title)}</h3>")
            parts += [_html_block(b) for b in section.blocks]
            parts.append("</section>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
