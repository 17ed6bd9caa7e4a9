"""SMILES molecules: validation and server-side structure drawings (RDKit).

`molecule_svg` draws a molecule with RDKit and returns a *sanitized* SVG: the XML is parsed and
rebuilt from a whitelist of drawing elements (svg, g, rect, path, line, polyline, polygon, circle,
ellipse, text, tspan) and presentation attributes; scripts, event handlers, links, foreign
objects, entities, comments and `url(...)` styles cannot pass. The page should nevertheless use
`molecule_data_uri` in an ``<img src="data:image/svg+xml;base64,...">``: an SVG shown through
<img> can never run script or fetch anything, whatever it contains, so safety does not rest on the
sanitizer alone.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from functools import lru_cache

from exporters.errors import UserError

SVG_NS = "http://www.w3.org/2000/svg"
_ELEMENTS = {"svg", "g", "rect", "path", "line", "polyline", "polygon", "circle", "ellipse", "text", "tspan"}
_ATTRS = {"d", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "width", "height", "viewBox",
          "points", "style", "class", "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin",
          "stroke-opacity", "fill-opacity", "opacity", "fill-rule", "transform", "font-size", "font-family",
          "font-weight", "text-anchor", "dominant-baseline"}
_UNSAFE_VALUE = re.compile(r"url\s*\(|expression\s*\(|javascript:|@import|<|>", re.IGNORECASE)


def _rdkit():
    try:
        from rdkit import Chem, rdBase
        from rdkit.Chem.Draw import rdMolDraw2D
    except ImportError:
        raise UserError("molecules need RDKit: pip install rdkit") from None
    return Chem, rdBase, rdMolDraw2D


def parse_smiles(smiles: str, where: str = "SMILES"):
    """The RDKit molecule of `smiles`, or a one-line UserError naming `where` (file:line)."""
    Chem, rdBase, _ = _rdkit()
    text = smiles.strip() if isinstance(smiles, str) else ""
    mol = None
    if text:
        with rdBase.BlockLogs():
            mol = Chem.MolFromSmiles(text)
    if mol is None or mol.GetNumAtoms() == 0:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise UserError(f"{where}: invalid SMILES {shown!r}; fix the string (RDKit cannot parse it) or drop the pair")
    return mol


def validate_smiles(smiles: str, where: str = "SMILES") -> str:
    """The SMILES unchanged (stripped) when RDKit parses it; otherwise a UserError."""
    parse_smiles(smiles, where)
    return smiles.strip()


def canonical_smiles(smiles: str, where: str = "SMILES") -> str:
    Chem, _, _ = _rdkit()
    return Chem.MolToSmiles(parse_smiles(smiles, where))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sanitize_svg(svg: str) -> str:
    """Rebuild `svg` keeping only whitelisted drawing elements and attributes (see module doc)."""
    if "<!DOCTYPE" in svg or "<!ENTITY" in svg:
        raise UserError("refusing an SVG with a DOCTYPE or entities")
    try:
        root = ET.fromstring(re.sub(r"^<\?xml[^>]*\?>", "", svg.strip()))
    except ET.ParseError as exc:
        raise UserError(f"molecule drawing is not valid SVG ({exc})") from None
    if _local(root.tag) != "svg":
        raise UserError("molecule drawing does not start with <svg>")

    def clean(el: ET.Element) -> ET.Element | None:
        name = _local(el.tag)
        if name not in _ELEMENTS:
            return None
        out = ET.Element(name)
        for k, v in el.attrib.items():
            if "}" in k or k not in _ATTRS or _UNSAFE_VALUE.search(v):
                continue
            out.set(k, v)
        if name in ("text", "tspan") and el.text:
            out.text = el.text
        for child in el:
            c = clean(child)
            if c is not None:
                out.append(c)
                if name in ("text", "tspan") and child.tail:
                    c.tail = child.tail
        return out

    cleaned = clean(root)
    cleaned.set("xmlns", SVG_NS)
    return ET.tostring(cleaned, encoding="unicode", short_empty_elements=True)


@lru_cache(maxsize=4096)
def molecule_svg(smiles: str, size: int = 200, where: str = "SMILES") -> str:
    """A sanitized SVG drawing (size x size px, white background) of a valid SMILES."""
    _, _, rdMolDraw2D = _rdkit()
    mol = parse_smiles(smiles, where)
    drawer = rdMolDraw2D.MolDraw2DSVG(int(size), int(size))
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    drawer.FinishDrawing()
    return sanitize_svg(drawer.GetDrawingText())


def molecule_data_uri(smiles: str, size: int = 200, where: str = "SMILES") -> str:
    """`data:image/svg+xml;base64,...` of the drawing, for an <img src> (the recommended embedding)."""
    svg = molecule_svg(smiles, size, where)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
