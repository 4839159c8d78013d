"""Fit the matcher's weights to a merchant's identities (Fellegi-Sunter, EM) as a draft."""

from django.core.management.base import BaseCommand, CommandError

from customers.services import rule_set_activate, rule_set_fit
from oms.models import Merchant


class Command(BaseCommand):
    help = (
        "Estimate the m and u probabilities of each comparison level from the merchant's "
        "identities with EM and store the weights and thresholds as a draft rule set "
        "version, compared with the rules in force (activate it in admin, or with --activate)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True, help="merchant code")
        parser.add_argument(
            "--link-posterior",
            type=float,
            default=0.99,
            help="posterior match probability at the link threshold (default 0.99)",
        )
        parser.add_argument(
            "--review-posterior",
            type=float,
            default=0.5,
            help="posterior match probability at the review threshold (default 0.5)",
        )
        parser.add_argument("--no-compare", action="store_true", help="skip the comparison")
        parser.add_argument(
            "--activate", action="store_true", help="activate the draft at once and re-resolve"
        )

    def handle(self, *args, merchant, link_posterior, review_posterior, **options):
        target = Merchant.objects.filter(code=merchant).first()
        if target is None:
            raise CommandError(f"no merchant {merchant!r}")
        for name, value in (("link", link_posterior), ("review", review_posterior)):
            if not 0 < value < 1:
                raise CommandError(f"--{name}-posterior must be between 0 and 1")
        if review_posterior > link_posterior:
            raise CommandError("--review-posterior must not exceed --link-posterior")
        version = rule_set_fit(
            merchant=target,
            actor="command:fit_match_rules",
            link_posterior=link_posterior,
            review_posterior=review_posterior,
            compare=not options["no_compare"],
        )
        fit = version.fit_report
        self.stdout.write(
            f"draft #{version.pk} {version.label!r}: {fit['records']} identities, "
            f"{fit['pairs']} candidate pairs ({fit['distinct_vectors']} distinct), EM "
            f"{'converged' if fit['converged'] else 'stopped'} after {fit['iterations']} "
            f"iterations, lambda {fit['lambda']:.4f}, {fit['seconds']} s"
        )
        rules = version.rules
        self.stdout.write(
            f"link threshold {rules['link_threshold']}, review threshold "
            f"{rules['review_threshold']}; weights: "
            + ", ".join(f"{name} {weight:g}" for name, weight in rules["weights"].items())
        )
        if fit["kept_default"]:
            self.stdout.write("kept (too few pairs to estimate): " + ", ".join(fit["kept_default"]))
        if version.comparison:
            c = version.comparison
            self.stdout.write(
                f"against the rules in force: {c['customers_before']} -> {c['customers_after']} "
                f"customers, {c['merges']} merges, {c['splits']} splits"
            )
        if options["activate"]:
            version = rule_set_activate(version=version, actor="command:fit_match_rules")
            version.refresh_from_db()
            self.stdout.write(
                f"activated; re-resolve {version.resolve_status or 'queued'}: {version.resolve_report}"
            )
