"""Run an input serializer over a body or the query string and raise the API's 400 on failure."""

from genxsop.errors import ValidationFailed


def validated_body(serializer_class, data) -> dict:
    """The body's validated data; a shape error is 400 VALIDATION_ERROR with `fields`."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def validated_query(serializer_class, request) -> dict:
    """The query parameters' validated data; a bad value is 400 INVALID_PARAMETER (API-07)."""
    serializer = serializer_class(data=request.query_params)
    if not serializer.is_valid():
        fields = {name: [str(m) for m in msgs] for name, msgs in serializer.errors.items()}
        raise ValidationFailed("Invalid query parameter.", fields=fields, code="INVALID_PARAMETER")
    return dict(serializer.validated_data)
