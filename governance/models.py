import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower, Now

from governance.choices import (
    ActionItemPriority,
    ActionItemStatus,
    ActorType,
    AuthSource,
    CommentKind,
    CycleStatus,
    DecisionCategory,
    DecisionStatus,
    EvaluationOutcome,
    Lane,
    NotificationKind,
    PublicationOutcome,
    PublicationStatus,
    Role,
    Source,
    StepStatus,
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **extra):
        # Account creation for people goes through governance.services.user_create, which
        # audits it; this manager method exists for Django's own tooling (createsuperuser).
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("full_name", "Administrator")
        user = self.create_user(email, password, **extra)
        from governance.roles import sync_user_group

        sync_user_group(user)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """A person or service account using GenXSOP. Exactly one role; permissions come from it."""

    email = models.EmailField(max_length=254)
    full_name = models.CharField(max_length=255)
    role = models.CharField(max_length=30, choices=Role.choices, default=Role.VIEWER)
    department = models.CharField(max_length=100, default="", blank=True)
    is_active = models.BooleanField(default=True)
    is_service_account = models.BooleanField(default=False)
    auth_source = models.CharField(max_length=10, choices=AuthSource.choices, default=AuthSource.LOCAL)
    role_managed_by = models.CharField(max_length=10, choices=AuthSource.choices, default=AuthSource.LOCAL)
    failed_login_count = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        db_table = "users"
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="uq_users_email_ci",
                violation_error_message="A user with this email already exists.",
                violation_error_code="unique",
            ),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="ck_users_role"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_staff(self) -> bool:
        """Django admin access follows the role (GOV-01, OPS-63)."""
        return self.is_active and self.role == Role.ADMIN

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class ApiToken(models.Model):
    """A long-lived integration credential `gxs_<key>_<secret>`; only an HMAC of the secret is kept."""

    key = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    last4 = models.CharField(max_length=4)
    name = models.CharField(max_length=100)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    scopes = models.JSONField(default=list)
    allowed_ips = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.CharField(max_length=45, blank=True, default="")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoke_reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "api_tokens"
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="ck_api_tokens_expiry"
            ),
        ]
        indexes = [models.Index(fields=["user", "revoked_at"], name="ix_api_tokens_user_revoked")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def prefix(self) -> str:
        return f"gxs_{self.key}"


class AuditEvent(models.Model):
    """An append-only record of one state change: who, when, from where, before and after (GOV-07).

    Database triggers refuse UPDATE and DELETE, and each row is linked into a SHA-256 hash chain
    (`chain_seq`, `chain_hash`) by `governance.audit` at insert (ADR 0015). Actors and tokens are
    PROTECTed, not SET NULL: nulling the actor would be an update the triggers refuse and the
    chain would catch; people who acted are deactivated, never deleted.
    """

    # Set in Python by governance.audit (the hash covers it); the database default only serves raw inserts.
    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_type = models.CharField(max_length=20, choices=ActorType.choices)
    actor_name = models.CharField(max_length=255, blank=True, default="")
    api_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    api_token_prefix = models.CharField(max_length=20, blank=True, default="")
    source = models.CharField(max_length=10, choices=Source.choices)
    request_id = models.CharField(max_length=128, blank=True, default="")
    ip_address = models.CharField(max_length=45, blank=True, default="")
    user_agent = models.CharField(max_length=255, blank=True, default="")
    event_type = models.CharField(max_length=100)
    target_type = models.CharField(max_length=50)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=255, blank=True, default="")
    related_type = models.CharField(max_length=50, blank=True, default="")
    related_id = models.CharField(max_length=64, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    changed_fields = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # Position in the hash chain (1, 2, 3, … without gaps) and SHA-256 of (previous hash ‖ this row's content).
    chain_seq = models.BigIntegerField(null=True, editable=False)
    chain_hash = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        db_table = "audit_events"
        ordering = ["-occurred_at", "-id"]
        permissions = [
            ("export_auditevent", "Can export the audit log"),
            ("verify_auditevent", "Can verify the audit hash chain"),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id", "occurred_at"], name="ix_audit_target"),
            models.Index(fields=["related_type", "related_id", "occurred_at"], name="ix_audit_related"),
            models.Index(fields=["actor", "occurred_at"], name="ix_audit_actor"),
            models.Index(fields=["event_type", "occurred_at"], name="ix_audit_event_type"),
            models.Index(fields=["request_id"], name="ix_audit_request"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(source__in=Source.values), name="ck_audit_events_source"),
            models.CheckConstraint(
                condition=models.Q(actor_type__in=ActorType.values), name="ck_audit_events_actor_type"
            ),
            models.UniqueConstraint(fields=["chain_seq"], name="uq_audit_events_chain_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.target_type}:{self.target_id}"


class AuditChainHead(models.Model):
    """The one row saying where the audit hash chain ends: the last sequence number and its hash.

    Every audit insert locks this row (`SELECT … FOR UPDATE`) until its transaction ends, so
    concurrent writers append one after the other and never fork the chain; it also lets
    verification notice rows deleted from the end of the log.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "audit_chain_head"
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="ck_audit_chain_head_single_row")]

    def __str__(self) -> str:
        return f"audit chain at {self.last_seq}"


class AuthToken(models.Model):
    """A short-lived API login credential (access or refresh) from `/auth/login`; stored only as a digest (GOV-04)."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access"
        REFRESH = "refresh", "Refresh"

    key = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_tokens")
    family_id = models.UUIDField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    ip = models.CharField(max_length=45, blank=True, default="")
    user_agent = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "auth_tokens"
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["user", "kind", "revoked_at"], name="ix_auth_tokens_user_kind"),
            models.Index(fields=["family_id"], name="ix_auth_tokens_family"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["access", "refresh"]), name="ck_auth_tokens_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} token of {self.user_id}"


class SsoRoleMapping(models.Model):
    """Maps one value of the IdP's role claim (e.g. a group name) to a GenXSOP role (GOV-05, ACC-29)."""

    claim_value = models.CharField(max_length=255, unique=True)
    role = models.CharField(max_length=30, choices=Role.choices)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "sso_role_mappings"
        ordering = ["claim_value"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="ck_sso_role_mappings_role"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_value} → {self.role}"


class SsoIdentity(models.Model):
    """The link between a user and an OIDC (issuer, subject); SSO never identifies anyone by email alone (GOV-06)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    email_at_link = models.EmailField(max_length=254, blank=True, default="")
    last_claims = models.JSONField(default=dict, blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "sso_identities"
        ordering = ["issuer", "subject"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="uq_sso_identities_issuer_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.subject}"


class Comment(models.Model):
    """A remark on any entity, by (entity_type, entity_id) like audit events (GOV-12).

    Approval, rejection, return and override comments are the structured record of a decision:
    the workflow services write them in the decision's transaction, and they are never edited.
    """

    entity_type = models.CharField(max_length=50)
    entity_id = models.CharField(max_length=64)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    content = models.TextField()
    kind = models.CharField(max_length=20, choices=CommentKind.choices, default=CommentKind.COMMENT)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies")
    mentions = models.ManyToManyField(User, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "comments"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["entity_type", "entity_id", "created_at"], name="ix_comments_entity")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=CommentKind.values), name="ck_comments_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.entity_type}:{self.entity_id}"


class SopCycle(models.Model):
    """One monthly S&OP cycle (GOV-08): five steps from data gathering to the executive meeting."""

    cycle_name = models.CharField(max_length=255)
    period = models.DateField()
    current_step = models.PositiveSmallIntegerField(default=1)
    overall_status = models.CharField(max_length=20, choices=CycleStatus.choices, default=CycleStatus.ACTIVE)
    notes = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    completed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "sop_cycles"
        ordering = ["-period", "-id"]
        permissions = [
            ("complete_sopcycle", "Complete an S&OP cycle"),
            ("override_sopcycle_gate", "Advance or complete an S&OP cycle past a failed gate"),
            ("skip_sopcycle_step", "Skip a step of an S&OP cycle"),
            ("view_executive_scorecard", "Read a cycle's executive scorecard and meeting pack"),
        ]
        indexes = [models.Index(fields=["overall_status", "period"], name="ix_sop_cycles_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(current_step__gte=1, current_step__lte=5), name="ck_sop_cycles_step"
            ),
            models.CheckConstraint(
                condition=models.Q(overall_status__in=CycleStatus.values), name="ck_sop_cycles_status"
            ),
            models.UniqueConstraint(
                fields=["period"],
                condition=models.Q(overall_status__in=[CycleStatus.ACTIVE, CycleStatus.COMPLETED]),
                name="uq_sop_cycles_period_open",
                violation_error_message="A cycle for this period already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.cycle_name


class SopCycleStep(models.Model):
    """One of the five fixed steps of a cycle (GOV-09), with its owner, due date and last gate result."""

    cycle = models.ForeignKey(SopCycle, on_delete=models.CASCADE, related_name="steps")
    step_number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=50)
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    skip_reason = models.TextField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    gate_result = models.JSONField(null=True, blank=True)
    override_justification = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "sop_cycle_steps"
        ordering = ["cycle", "step_number"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "step_number"], name="uq_sop_cycle_steps_key"),
            models.CheckConstraint(
                condition=models.Q(step_number__gte=1, step_number__lte=5), name="ck_sop_cycle_steps_number"
            ),
            models.CheckConstraint(condition=models.Q(status__in=StepStatus.values), name="ck_sop_cycle_steps_status"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle} step {self.step_number} {self.name}"


class Decision(models.Model):
    """What an S&OP meeting or an approver decided (GOV-10); a newer decision may supersede it."""

    cycle = models.ForeignKey(SopCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions")
    step_number = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.CharField(max_length=20, choices=DecisionCategory.choices)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    related_type = models.CharField(max_length=50, blank=True, default="")
    related_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=20, choices=DecisionStatus.choices, default=DecisionStatus.ACTIVE)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "decisions"
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["cycle", "decided_at"], name="ix_decisions_cycle")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__in=DecisionCategory.values), name="ck_decisions_category"
            ),
            models.CheckConstraint(condition=models.Q(status__in=DecisionStatus.values), name="ck_decisions_status"),
            models.CheckConstraint(
                condition=models.Q(step_number__isnull=True) | models.Q(step_number__gte=1, step_number__lte=5),
                name="ck_decisions_step",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ActionItem(models.Model):
    """A task agreed in S&OP (GOV-11) with an owner, a due date and a status (WF-51)."""

    cycle = models.ForeignKey(SopCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items")
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField()
    priority = models.CharField(max_length=10, choices=ActionItemPriority.choices, default=ActionItemPriority.MEDIUM)
    status = models.CharField(max_length=20, choices=ActionItemStatus.choices, default=ActionItemStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    related_type = models.CharField(max_length=50, blank=True, default="")
    related_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "action_items"
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_date"], name="ix_action_items_owner"),
            models.Index(fields=["cycle", "status"], name="ix_action_items_cycle"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__in=ActionItemPriority.values), name="ck_action_items_priority"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ActionItemStatus.values), name="ck_action_items_status"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """An in-app message to one user (GOV-13, GOV-81): a mention, an assignment, an item falling due."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    entity_type = models.CharField(max_length=50, blank=True, default="")
    entity_id = models.CharField(max_length=64, blank=True, default="")
    url = models.CharField(max_length=500, blank=True, default="")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"], name="ix_notifications_recipient")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=NotificationKind.values), name="ck_notifications_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class PublishPolicy(models.Model):
    """The thresholds of one publish lane (GOV-14); administrators edit them, the gates read them."""

    lane = models.CharField(max_length=10, choices=Lane.choices, unique=True)
    horizon_unit = models.CharField(max_length=10, default="months")
    horizon_min = models.PositiveSmallIntegerField()
    horizon_max = models.PositiveSmallIntegerField()
    freeze_days = models.PositiveSmallIntegerField(default=0)
    freeze_months = models.PositiveSmallIntegerField(default=0)
    required_score = models.PositiveSmallIntegerField()
    mape_threshold_pct = models.DecimalField(max_digits=6, decimal_places=2)
    bias_threshold_pct = models.DecimalField(max_digits=6, decimal_places=2)
    accuracy_lag = models.PositiveSmallIntegerField()
    accuracy_window_months = models.PositiveSmallIntegerField(default=6)
    inventory_max_age_hours = models.PositiveIntegerField()
    inventory_freshness_min_pct = models.DecimalField(max_digits=5, decimal_places=2, default=95)
    actuals_coverage_min_pct = models.DecimalField(max_digits=5, decimal_places=2, default=95)
    is_active = models.BooleanField(default=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "publish_policies"
        ordering = ["lane"]
        verbose_name_plural = "publish policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(required_score__gte=0, required_score__lte=4), name="ck_publish_policies_score"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    mape_threshold_pct__gt=0,
                    bias_threshold_pct__gt=0,
                    accuracy_lag__gte=1,
                    accuracy_window_months__gte=1,
                    inventory_max_age_hours__gte=1,
                    horizon_min__gte=1,
                ),
                name="ck_publish_policies_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(horizon_min__lte=models.F("horizon_max")), name="ck_publish_policies_horizon"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lane} publish policy"


class ReadinessEvaluation(models.Model):
    """One Go/No-Go evaluation of a lane (GOV-15), kept with its inputs and outcome; never updated."""

    evaluation_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lane = models.CharField(max_length=10, choices=Lane.choices)
    period_from = models.DateField()
    period_to = models.DateField()
    sop_cycle = models.ForeignKey(SopCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=10, choices=EvaluationOutcome.choices)
    score = models.PositiveSmallIntegerField()
    required_score = models.PositiveSmallIntegerField()
    must_pass = models.JSONField(default=list)
    scored = models.JSONField(default=list)
    policy_snapshot = models.JSONField(default=dict)
    plan_fingerprint = models.CharField(max_length=64)
    plan_counts = models.JSONField(default=dict)
    evaluated_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    request_id = models.CharField(max_length=128, blank=True, default="")
    dry_run = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "readiness_evaluations"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lane", "created_at"], name="ix_readiness_lane")]
        constraints = [
            models.CheckConstraint(condition=models.Q(lane__in=Lane.values), name="ck_readiness_lane"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=EvaluationOutcome.values), name="ck_readiness_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lane} {self.outcome} {self.evaluation_id}"


class Publication(models.Model):
    """An immutable, gate-validated publication of the plans of one lane's horizon (GOV-16)."""

    version_stamp = models.CharField(max_length=40, unique=True)
    lane = models.CharField(max_length=10, choices=Lane.choices)
    period_from = models.DateField()
    period_to = models.DateField()
    sop_cycle = models.ForeignKey(
        SopCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="publications"
    )
    evaluation = models.ForeignKey(ReadinessEvaluation, on_delete=models.PROTECT, related_name="publications")
    outcome = models.CharField(max_length=20, choices=PublicationOutcome.choices)
    failed_gates = models.JSONField(default=list, blank=True)
    override_justification = models.TextField(blank=True, default="")
    override_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    operating_plan_scenario = models.ForeignKey(
        "planning.Scenario", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=PublicationStatus.choices, default=PublicationStatus.PUBLISHED)
    published_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField()
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    superseded_at = models.DateTimeField(null=True, blank=True)
    rolled_back_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    rollback_reason = models.TextField(blank=True, default="")
    restored_publication = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    item_count = models.PositiveIntegerField(default=0)
    snapshot_sha256 = models.CharField(max_length=64)
    excluded = models.JSONField(default=list, blank=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "publications"
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["lane", "published_at"], name="ix_publications_lane")]
        permissions = [
            ("override_publication", "Publish with a No-Go override"),
            ("rollback_publication", "Roll back a publication"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lane"],
                condition=models.Q(status=PublicationStatus.PUBLISHED),
                name="uq_publications_current_lane",
                violation_error_message="The lane already has a current publication.",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PublicationStatus.values), name="ck_publications_status"
            ),
            models.CheckConstraint(condition=models.Q(lane__in=Lane.values), name="ck_publications_lane"),
            models.CheckConstraint(
                condition=models.Q(outcome=PublicationOutcome.GO)
                | (~models.Q(override_justification="") & models.Q(override_by__isnull=False)),
                name="ck_publications_override",
            ),
        ]

    def __str__(self) -> str:
        return self.version_stamp


class PublicationItem(models.Model):
    """The frozen values of one plan row in a publication (GOV-17)."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="items")
    plan_type = models.CharField(max_length=10)  # demand | supply
    plan_id = models.BigIntegerField()
    plan_version = models.PositiveIntegerField()
    product = models.ForeignKey("planning.Product", on_delete=models.PROTECT, related_name="+")
    period = models.DateField()
    region = models.CharField(max_length=100, blank=True, default="")
    channel = models.CharField(max_length=100, blank=True, default="")
    location = models.ForeignKey("planning.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    values = models.JSONField(default=dict)

    class Meta:
        db_table = "publication_items"
        ordering = ["publication", "plan_type", "plan_id"]
        indexes = [models.Index(fields=["plan_type", "plan_id"], name="ix_publication_items_plan")]
        constraints = [
            models.UniqueConstraint(fields=["publication", "plan_type", "plan_id"], name="uq_publication_items_key"),
            models.CheckConstraint(
                condition=models.Q(plan_type__in=["demand", "supply"]), name="ck_publication_items_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.publication_id} {self.plan_type}:{self.plan_id} v{self.plan_version}"


class ServiceMetricBucket(models.Model):
    """SLI evidence of one process for one UTC minute, route group and method (GOV-18, OPS-51).

    Each process writes only its own rows (`process` is part of the key), so a flush never
    contends with another process. The status-class counters and `db_query_count` go beyond
    GOV-18: `/metrics` labels requests by status class and reports query counts per route.
    """

    minute = models.DateTimeField()
    route_group = models.CharField(max_length=150)
    method = models.CharField(max_length=10)
    is_ml = models.BooleanField(default=False)
    process = models.CharField(max_length=100)
    request_count = models.PositiveIntegerField(default=0)
    error_5xx_count = models.PositiveIntegerField(default=0)
    status_2xx_count = models.PositiveIntegerField(default=0)
    status_3xx_count = models.PositiveIntegerField(default=0)
    status_4xx_count = models.PositiveIntegerField(default=0)
    # GOV-35: authorization failures (403, CSRF refusals included) and throttled requests (429),
    # counted here so that /metrics reports them from every process.
    status_403_count = models.PositiveIntegerField(default=0)
    status_429_count = models.PositiveIntegerField(default=0)
    # The latency histogram: requests per upper bound in ms (not cumulative). Columns rather than
    # GOV-18's JSON object, so that flushes add to them with F() and reports sum them in SQL.
    duration_le_25 = models.PositiveIntegerField(default=0)
    duration_le_50 = models.PositiveIntegerField(default=0)
    duration_le_100 = models.PositiveIntegerField(default=0)
    duration_le_200 = models.PositiveIntegerField(default=0)
    duration_le_300 = models.PositiveIntegerField(default=0)
    duration_le_500 = models.PositiveIntegerField(default=0)
    duration_le_1000 = models.PositiveIntegerField(default=0)
    duration_le_2000 = models.PositiveIntegerField(default=0)
    duration_le_5000 = models.PositiveIntegerField(default=0)
    duration_le_inf = models.PositiveIntegerField(default=0)
    duration_sum_ms = models.FloatField(default=0)
    db_query_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "service_metric_buckets"
        ordering = ["-minute", "route_group", "method"]
        indexes = [models.Index(fields=["minute"], name="ix_metric_buckets_minute")]
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "route_group", "method", "process"], name="uq_metric_buckets_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.method} {self.route_group} ({self.process})"


class MetricCarry(models.Model):
    """What a retention purge deleted from a table that a /metrics counter counts (OPS-50).

    A counter computed from rows would go down when old rows are purged, and Prometheus reads a
    drop as a restart; the purge adds the deleted amounts here, in the same transaction, and
    /metrics adds them back. `labels` is the sample's label set as `name=value` pairs joined by
    commas, in the order the exposition writes them.
    """

    metric = models.CharField(max_length=100)
    labels = models.CharField(max_length=300, blank=True, default="")
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "metric_carries"
        ordering = ["metric", "labels"]
        constraints = [models.UniqueConstraint(fields=["metric", "labels"], name="uq_metric_carries_key")]

    def __str__(self) -> str:
        return f"{self.metric}{{{self.labels}}} {self.value}"
