from facilitation.extensions import db
from tests.factories import make_gathering


def test_home_page_lists_a_published_gathering(client, app):
    make_gathering(title="Full moon circle")
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 200
    assert "Full moon circle" in response.get_data(as_text=True)
