import pytest


@pytest.mark.django_db
def test_health_answers_without_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "app": "GenXSOP"}
    assert response["X-Request-ID"]
