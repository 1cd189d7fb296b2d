"""Comments on the S&OP cycle page (UI-11) and on a publication's page (UI-12), GOV-80: the threaded list,
mentions, "[deleted]", the add and reply forms, refusals shown on the page, audit, and 404 for users who
cannot read the entity."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.utils.html import escape

from genxsop.errors import NotFound
from governance import audit_chain, entities
from governance.choices import NotificationKind, Role
from governance.models import AuditEvent, Comment, Notification
from governance.services import comments, cycles
from tests.governance.login_helpers import assert_csp_clean
from tests.governance.test_publishing_world import make_world, publish

pytestmark = pytest.mark.django_db

PERIOD = date(2031, 3, 1)


@pytest.fixture
def cycle(users):
    return cycles.cycle_create(actor=users[Role.SOP_COORDINATOR], data={"period": PERIOD})


def page_of(cycle) -> str:
    return f"/sop-cycle/{cycle.pk}/"


def post_url(cycle) -> str:
    return f"/sop-cycle/{cycle.pk}/comments/"


def with_perms(make_user, *perms):
    """A viewer holding only the given extra permissions: the roles never split reading from commenting."""
    user = make_user(Role.VIEWER)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return type(user).objects.get(pk=user.pk)  # a fresh instance: no cached permissions


def test_the_cycle_page_lists_threads_mentions_and_deleted_comments(client, users, cycle):
    planner, coord = users[Role.DEMAND_PLANNER], users[Role.SOP_COORDINATOR]
    root, _ = comments.comment_create(actor=planner, entity_type="sop_cycle", entity_id=cycle.pk,
                                      content=f"Volumes look low, @{coord.email} please check")  # fmt: skip
    reply, _ = comments.comment_create(actor=coord, entity_type="sop_cycle", entity_id=cycle.pk,
                                       content="Checked, promotion moved", parent_id=root.pk)  # fmt: skip
    gone, _ = comments.comment_create(actor=planner, entity_type="sop_cycle", entity_id=cycle.pk, content="Typo")
    comments.comment_delete(actor=planner, pk=gone.pk)
    client.force_login(users[Role.FINANCE_ANALYST])
    response = client.get(page_of(cycle))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="comments"' in html
    assert "Comments" in html
    assert "Volumes look low" in html
    assert f'Mentioned: <span class="comment__mention">@{escape(coord.full_name)}</span>' in html
    # The reply sits in a nested list inside its parent's entry, after the parent's text.
    root_at, replies_at, reply_at = (html.index(f'id="comment-{root.pk}"'), html.index("comment-list--replies"),
                                     html.index(f'id="comment-{reply.pk}"'))  # fmt: skip
    assert root_at < replies_at < reply_at
    assert "[deleted]" in html
    assert ">Typo<" not in html
    assert 'id="comment-form"' in html
    assert f'action="{post_url(cycle)}"' in html
    assert f'name="parent_id" value="{root.pk}"' in html
    assert f'name="parent_id" value="{gone.pk}"' not in html  # nobody replies to a deleted comment
    assert_csp_clean(html)


def test_posting_a_comment_saves_audits_and_notifies_the_mentioned(client, users, cycle):
    planner, coord = users[Role.DEMAND_PLANNER], users[Role.SOP_COORDINATOR]
    client.force_login(planner)
    response = client.post(post_url(cycle), {"content": f"Ready for review @{coord.email}"})
    comment = Comment.objects.get(entity_type="sop_cycle", entity_id=str(cycle.pk))
    assert response.status_code == 302
    assert response["Location"] == f"{page_of(cycle)}#comment-{comment.pk}"
    assert (comment.user, comment.kind, comment.parent) == (planner, "comment", None)
    assert list(comment.mentions.all()) == [coord]
    event = AuditEvent.objects.get(event_type="governance.comment.created", target_id=str(comment.pk))
    assert (event.actor_id, event.related_type, event.related_id) == (planner.pk, "sop_cycle", str(cycle.pk))
    assert event.metadata["mentions"] == [coord.pk]
    assert audit_chain.verify().ok
    assert Notification.objects.filter(recipient=coord, kind=NotificationKind.MENTION).exists()
    html = client.get(page_of(cycle)).content.decode()
    assert "Comment added." in html
    assert "Ready for review" in html

    reply = client.post(post_url(cycle), {"content": "Reviewed", "parent_id": str(comment.pk)})
    assert reply.status_code == 302
    assert Comment.objects.get(content="Reviewed").parent == comment


def test_a_refused_comment_shows_the_page_again_with_the_reason_and_the_text(client, users, cycle):
    client.force_login(users[Role.DEMAND_PLANNER])
    blank = client.post(post_url(cycle), {"content": "   "})
    assert blank.status_code == 400
    html = blank.content.decode()
    assert 'id="comment-errors"' in html
    assert "This field may not be blank." in html
    assert "Steps" in html  # the whole cycle page, not an error page
    orphan = client.post(post_url(cycle), {"content": "Keep this text", "parent_id": "999999"})
    assert orphan.status_code == 400
    html = orphan.content.decode()
    assert "No such comment on this entity." in html
    assert "Keep this text" in html
    assert not Comment.objects.exists()
    assert not AuditEvent.objects.filter(event_type="governance.comment.created").exists()


def test_only_roles_that_may_comment_get_the_form_and_unreaders_get_404(client, users, make_user, cycle):
    reader = with_perms(make_user, "governance.view_sopcycle", "governance.view_decision", "governance.view_actionitem")
    client.force_login(reader)
    html = client.get(page_of(cycle)).content.decode()
    assert 'id="comments"' in html
    assert 'id="comment-form"' not in html
    assert client.post(post_url(cycle), {"content": "Hello"}).status_code == 403
    client.force_login(users[Role.VIEWER])
    assert client.get(page_of(cycle)).status_code == 403
    assert client.post(post_url(cycle), {"content": "Hello"}).status_code == 403
    # May comment in general, but cannot read cycles: the cycle does not exist for them.
    client.force_login(with_perms(make_user, "governance.add_comment"))
    assert client.post(post_url(cycle), {"content": "Hello"}).status_code == 404
    assert client.post("/sop-cycle/999999/comments/", {"content": "Hello"}).status_code == 404
    assert not Comment.objects.exists()


# Publications (GOV-80 lists them among the commented entities) ----------------------------------


@pytest.fixture
def publication(users):
    return publish(make_world(users))


def test_publication_is_a_comment_entity_readable_only_by_publication_readers(users, make_user, publication):
    assert "publication" in entities.entity_types()
    found = entities.readable_entity(user=users[Role.FINANCE_ANALYST], entity_type="publication",
                                     entity_id=str(publication.pk))  # fmt: skip
    assert found == publication
    with pytest.raises(NotFound):
        entities.readable_entity(user=users[Role.VIEWER], entity_type="publication", entity_id=str(publication.pk))
    with pytest.raises(NotFound):
        entities.readable_entity(user=users[Role.ADMIN], entity_type="publication", entity_id="999999")


def test_the_publication_page_lists_and_posts_comments(client, users, publication):
    planner = users[Role.SUPPLY_PLANNER]
    page = f"/publish/{publication.pk}/"
    client.force_login(planner)
    html = client.get(page).content.decode()
    assert 'id="comments"' in html
    assert "No comments yet." in html
    assert f'action="/publish/{publication.pk}/comments/"' in html
    assert_csp_clean(html)
    response = client.post(f"/publish/{publication.pk}/comments/", {"content": "ERP confirmed receipt"})
    comment = Comment.objects.get(entity_type="publication", entity_id=str(publication.pk))
    assert response["Location"] == f"{page}#comment-{comment.pk}"
    event = AuditEvent.objects.get(event_type="governance.comment.created", target_id=str(comment.pk))
    assert (event.related_type, event.related_id) == ("publication", str(publication.pk))
    assert "ERP confirmed receipt" in client.get(page).content.decode()
    blank = client.post(f"/publish/{publication.pk}/comments/", {"content": ""})
    assert blank.status_code == 400
    assert "This field may not be blank." in blank.content.decode()
    assert publication.version_stamp in blank.content.decode()


def test_publication_comments_are_404_for_users_who_cannot_read_publications(
    client, users, make_user, api_client_for, publication
):
    comments.comment_create(actor=users[Role.EXECUTIVE], entity_type="publication", entity_id=publication.pk,
                            content="Approved in the executive meeting")  # fmt: skip
    query = {"entity_type": "publication", "entity_id": str(publication.pk)}
    listed = api_client_for(users[Role.DEMAND_PLANNER]).get("/api/v1/comments", query)
    assert listed.status_code == 200
    assert [c["content"] for c in listed.json()["items"]] == ["Approved in the executive meeting"]
    assert api_client_for(users[Role.VIEWER]).get("/api/v1/comments", query).status_code == 404
    commenter = with_perms(make_user, "governance.add_comment")
    body = {**query, "content": "Let me in"}
    assert api_client_for(commenter).post("/api/v1/comments", body, format="json").status_code == 404
    client.force_login(commenter)
    assert client.post(f"/publish/{publication.pk}/comments/", {"content": "Let me in"}).status_code == 404
    assert Comment.objects.filter(entity_type="publication").count() == 1
