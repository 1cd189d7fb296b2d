"""The Publish page (UI-12): lane cards, the readiness scorecard, publish (and override), the history of
publications with their items, diff, rollback and download.

Thin callers of governance.services.readiness and governance.services.publishing: every button is
offered only to the roles the service accepts, and the service checks again.
"""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from genxsop import errors
from genxsop.console import ConsolePermissionMixin, filters_from, paginate, raise_page_error
from governance import permissions as gperms
from governance.choices import Lane
from governance.models import PublishPolicy, ReadinessEvaluation
from governance.services import publishing
from governance.views_comments import CommentPostView, comments_context

TEMPLATE = "governance/publish/publish.html"


def _lane_cards() -> list[dict]:
    from governance.services.readiness import lane_horizon

    cards = []
    for policy in PublishPolicy.objects.order_by("lane"):
        current = publishing.current_publication(policy.lane)
        try:
            horizon = lane_horizon(policy)
        except errors.DomainError:
            horizon = None
        cards.append({
            "policy": policy, "horizon": horizon, "current": current,
            "delivery": publishing.publication_delivery_status(current) if current else None,
        })  # fmt: skip
    return cards


def _offer(user, evaluation: ReadinessEvaluation) -> dict:
    """What the page offers after an evaluation (UI-12): publish on Go; override for APPR on No-Go,
    listing the gates it overrides, or the gates that block it."""
    failed = [g for g in evaluation.must_pass or [] if not g.get("passed")]
    blocking = [g for g in failed if not g.get("overridable")]
    go = evaluation.outcome == "go"
    return {
        "evaluation": evaluation,
        "can_publish": go and user.has_perm(gperms.ADD_PUBLICATION),
        "can_override": not go and not blocking and user.has_perm(gperms.OVERRIDE_PUBLICATION)
        and user.has_perm(gperms.ADD_PUBLICATION),
        "failed": failed,
        "blocking": blocking,
        "score_short": evaluation.score < evaluation.required_score,
    }  # fmt: skip


class PublishPageView(ConsolePermissionMixin, TemplateView):
    permission_required = gperms.VIEW_PUBLICATION
    template_name = TEMPLATE

    def get_context_data(self, evaluations=None, overall=None, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters = filters_from(self.request, ("lane", "status", "from", "to"))
        try:
            history = publishing.publication_list(user=user, filters=filters)
        except errors.ValidationFailed as exc:
            messages.error(self.request, exc.message)
            history = publishing.publication_list(user=user)
        context.update(paginate(self.request, history))
        context.update(
            lanes=_lane_cards(), filters=filters, lane_choices=Lane.choices, offers=[
                _offer(user, e) for e in evaluations or []], overall=overall,
            can_check=user.has_perm(gperms.ADD_READINESS_EVALUATION),
            can_rollback=user.has_perm(gperms.ROLLBACK_PUBLICATION),
            justification_min=publishing.OVERRIDE_JUSTIFICATION_MIN,
        )  # fmt: skip
        return context


class PublishCheckView(ConsolePermissionMixin, View):
    """POST "Check readiness": dry-run evaluations of the chosen lanes, shown on the page."""

    permission_required = gperms.ADD_READINESS_EVALUATION

    def post(self, request):
        from governance.services.readiness import readiness_evaluate_lanes

        lane = request.POST.get("lane") or "both"
        try:
            result = readiness_evaluate_lanes(actor=request.user, lane=lane)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("governance:publish"))
        page = PublishPageView(request=request, args=(), kwargs={})
        context = page.get_context_data(evaluations=result["evaluations"], overall=result["overall"])
        return render(request, TEMPLATE, context)


class PublishCreateView(ConsolePermissionMixin, View):
    """POST Publish (PUB) or Publish with override (APPR, justification of at least 20 characters)."""

    permission_required = gperms.ADD_PUBLICATION

    def post(self, request):
        lane = request.POST.get("lane") or ""
        override = request.POST.get("override") == "1"
        justification = (request.POST.get("justification") or "") if override else None
        evaluation_id = request.POST.get("evaluation_id") or None
        try:
            publication = publishing.publication_publish(
                actor=request.user, lane=lane, evaluation_id=evaluation_id, override_justification=justification
            )
        except errors.DomainError as exc:
            raise_page_error(exc)
            message = exc.message
            for field_messages in (exc.fields or {}).values():
                message = " ".join(str(m) for m in field_messages)
            messages.error(request, f"Not published: {message}")
            evaluation_key = (exc.context or {}).get("evaluation_id") or (
                (exc.context or {}).get("fresh_evaluation") or {}
            ).get("evaluation_id")
            evaluation = ReadinessEvaluation.objects.filter(evaluation_id=evaluation_key).first()
            if evaluation is None:
                return HttpResponseRedirect(reverse("governance:publish"))
            page = PublishPageView(request=request, args=(), kwargs={})
            return render(request, TEMPLATE, page.get_context_data(evaluations=[evaluation]), status=409)
        messages.success(request, f"Published {publication.version_stamp}: {publication.item_count} plan rows locked.")
        return HttpResponseRedirect(reverse("governance:publication_detail", args=[publication.pk]))


class PublicationDetailView(ConsolePermissionMixin, TemplateView):
    """View: a publication's items, the diff against the previous publication and its comments."""

    permission_required = gperms.VIEW_PUBLICATION
    template_name = "governance/publish/publication_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        publication = publishing.publication_get(user=self.request.user, pk=kwargs["pk"])
        previous = publishing.publication_previous(publication)
        context.update(
            publication=publication, previous=previous, items=publishing.publication_items(publication),
            diff=publishing.publication_diff(publication, previous) if previous is not None else [],
            delivery=publishing.publication_delivery_status(publication),
            can_rollback=publication.status == "published"
            and self.request.user.has_perm(gperms.ROLLBACK_PUBLICATION),
            reason_min=publishing.ROLLBACK_REASON_MIN,
            **comments_context(user=self.request.user, entity_type="publication", entity_id=publication.pk,
                               post_url=reverse("governance:publication_comment", args=[publication.pk]),
                               form=kwargs.get("comment_form")),
        )  # fmt: skip
        return context


class PublicationCommentView(CommentPostView):
    """Comments on a publication (GOV-80); a refused comment shows the publication page with its reason."""

    entity_type = "publication"
    detail_view = PublicationDetailView
    detail_url_name = "governance:publication_detail"


class PublicationRollbackView(ConsolePermissionMixin, View):
    permission_required = gperms.ROLLBACK_PUBLICATION

    def post(self, request, pk):
        publication = publishing.publication_get(user=request.user, pk=pk)
        detail = reverse("governance:publication_detail", args=[pk])
        if request.POST.get("confirm") != "1":
            messages.error(request, "Confirm the rollback first.")
            return HttpResponseRedirect(detail)
        try:
            result = publishing.publication_rollback(actor=request.user, publication=publication,
                                                     reason=request.POST.get("reason") or "")  # fmt: skip
        except errors.DomainError as exc:
            raise_page_error(exc)
            message = exc.message
            for field_messages in (exc.fields or {}).values():
                message = " ".join(str(m) for m in field_messages)
            messages.error(request, f"Not rolled back: {message}")
            return HttpResponseRedirect(detail)
        restored = result["restored"].version_stamp if result["restored"] else "no publication"
        messages.success(request, f"Rolled back {publication.version_stamp}; {restored} is in force again "
                                  f"({len(result['restored_plans'])} restored, {len(result['released_plans'])} "
                                  "released).")  # fmt: skip
        return HttpResponseRedirect(detail)


class PublicationDownloadView(ConsolePermissionMixin, View):
    """Download items (CSV or XLSX), the same file as API-GOV-19."""

    permission_required = gperms.VIEW_PUBLICATION

    def get(self, request, pk):
        from governance.api.publication_views import publication_export_response

        publication = publishing.publication_get(user=request.user, pk=pk)
        try:
            return publication_export_response(publication, request.GET.get("format"))
        except errors.ValidationFailed as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("governance:publication_detail", args=[pk]))
