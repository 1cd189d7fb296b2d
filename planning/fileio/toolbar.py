"""What the console's import/export toolbar offers for a dataset, for the signed-in user."""

from django.urls import NoReverseMatch, reverse

from planning.fileio.datasets import DATASETS


def _url(name: str, **kwargs) -> str | None:
    # A page may include the toolbar before every route of its dataset exists: no link then.
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def toolbar_links(dataset: str, user, query_string: str = "") -> dict:
    """Export links (carrying the page's filters) and the import page link, each None when not offered."""
    entry = DATASETS.get(str(dataset or ""))
    links = {"csv": None, "xlsx": None, "import": None}
    if entry is None or user is None or not getattr(user, "is_authenticated", False):
        return links
    if entry.exportable and user.has_perm(entry.view_perm):
        export = _url(f"api:planning-api:io-{dataset}-export")
        if export:
            params = [part for part in (query_string or "").split("&") if part and not _drop(part)]
            for fmt in ("csv", "xlsx"):
                links[fmt] = f"{export}?{'&'.join([*params, f'format={fmt}'])}"
    if entry.importable and user.has_perms(entry.import_perms):
        links["import"] = _url("planning:io_import", dataset=dataset)
    return links


def _drop(part: str) -> bool:
    # Paging and an earlier format choice are not filters of the export.
    return part.split("=", 1)[0] in {"page", "page_size", "format"}
