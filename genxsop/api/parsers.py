"""The API's JSON body parser."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """JSON whose strings hold no NUL character (`\\u0000`), anywhere in the body, keys included.

    PostgreSQL text cannot store NUL, so such a value would only fail later as a database error
    (a 500, and an aborted transaction); refusing it here makes it the same 400 on every database.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _has_nul(data):
            raise ParseError("JSON strings must not contain the NUL character (\\u0000).")
        return data


def _has_nul(value) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
