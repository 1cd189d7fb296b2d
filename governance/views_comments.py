"""The Comments section of console pages (GOV-80): the threaded list of an entity's comments and the
form that adds one or replies to one.

A page includes `governance/_comments.html` with `comments_context(...)`; its comment form posts to a
`CommentPostView` subclass bound to the entity type. Posting goes through `comment_create` only, which
checks the permission and that the actor can read the entity (404 otherwise).
"""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from genxsop import errors
from genxsop.console import ConsolePermissionMixin, raise_page_error
from governance import selectors
from governance.services import comments as comment_services


def comment_threads(comments) -> list[dict]:
    """Comments as threads, oldest first: roots with their `replies`, nested to any depth.

    A reply whose parent is missing from `comments` (cannot happen through the service, which keeps
    threads inside one entity) is shown as a root rather than dropped."""
    comments = list(comments)
    nodes = {c.pk: {"comment": c, "replies": []} for c in comments}
    roots = []
    for comment in comments:
        parent = nodes.get(comment.parent_id)
        (parent["replies"] if parent is not None else roots).append(nodes[comment.pk])
    return roots


def comments_context(*, user, entity_type: str, entity_id, post_url: str, form: dict | None = None) -> dict:
    """What `governance/_comments.html` needs; `form` carries a refused post's text and errors back."""
    comments = list(selectors.comment_list(user=user, entity_type=entity_type, entity_id=str(entity_id)))
    form = dict(form or {})
    if form.get("parent_id") and form["parent_id"] not in {str(c.pk) for c in comments if c.deleted_at is None}:
        # No reply form for that parent is shown: the text goes back into the add form instead.
        form["parent_id"] = ""
    return {
        "comment_threads": comment_threads(comments),
        "comment_count": len(comments),
        "comment_post_url": post_url,
        "can_comment": user.has_perm(comment_services.ADD_COMMENT),
        "comment_max": comment_services.MAX_CONTENT,
        "comment_form": form,
    }


class CommentPostView(ConsolePermissionMixin, View):
    """POST a comment (or a reply: `parent_id`) on the page's entity, then back to its Comments section.

    A refused comment (blank, too long, unknown parent) re-renders the page with the text and the reason,
    so nothing typed is lost; an entity the user cannot read is the 404 page."""

    permission_required = comment_services.ADD_COMMENT
    http_method_names = ["post"]
    entity_type = ""
    detail_view = None  # the page's TemplateView class, re-rendered on a refusal
    detail_url_name = ""

    def post(self, request, pk):
        content = request.POST.get("content") or ""
        raw_parent = (request.POST.get("parent_id") or "").strip()
        try:
            if raw_parent and not raw_parent.isdigit():
                raise errors.ValidationFailed(fields={"parent_id": ["No such comment on this entity."]})
            comment, unnotified = comment_services.comment_create(
                actor=request.user, entity_type=self.entity_type, entity_id=str(pk), content=content,
                parent_id=int(raw_parent) if raw_parent else None,
            )  # fmt: skip
        except errors.ValidationFailed as exc:
            reasons = [str(m) for msgs in (exc.fields or {}).values() for m in msgs] or [exc.message]
            form = {"content": content, "parent_id": raw_parent, "errors": reasons}
            return self.render_refusal(request, pk, form)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
            return HttpResponseRedirect(f"{reverse(self.detail_url_name, args=[pk])}#comments")
        messages.success(request, "Comment added.")
        if unnotified:
            names = ", ".join(u.full_name or u.email for u in unnotified)
            messages.warning(request, f"Not notified (they cannot read this page): {names}.")
        return HttpResponseRedirect(f"{reverse(self.detail_url_name, args=[pk])}#comment-{comment.pk}")

    def render_refusal(self, request, pk, form: dict):
        page = self.detail_view(request=request, args=(), kwargs={"pk": pk})
        context = page.get_context_data(pk=pk, comment_form=form)
        return render(request, page.template_name, context, status=400)
