"""Price an order from channel prices and promotions. Pure: no Django import.

Per line: list price (the product's), channel price (the channel's price list, else the list
price), then promotions, in this order: the best percentage off per line (not stacked), the
best threshold discount (满 X 减 Y) over the eligible lines' subtotal after percentages,
allocated across those lines in proportion (the last line takes the rounding remainder), then
every gift whose threshold is met adds a gift line at 0. A campaign in ``excluded_campaigns``
(already granted to this customer) is skipped, and gift lines the channel itself sent for it are
dropped. Money is rounded half up to the fen.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineToPrice:
    sku: str
    quantity: int
    list_price: Decimal
    channel_price: Decimal
    channel_rule: str = ""
    is_gift: bool = False  # a gift line the channel sent
    campaign_code: str = ""


@dataclass(frozen=True)
class PromotionRule:
    id: int
    campaign_code: str
    kind: str  # threshold | percentage | gift
    name: str = ""
    threshold: Decimal = ZERO
    discount_amount: Decimal = ZERO
    percent_off: Decimal = ZERO
    gift_sku: str = ""
    gift_quantity: int = 1
    gift_list_price: Decimal = ZERO
    skus: frozenset[str] = frozenset()  # empty: every SKU
    once_per_customer: bool = True

    def covers(self, sku: str) -> bool:
        return not self.skus or sku in self.skus


@dataclass
class PricedLine:
    sku: str
    quantity: int
    list_price: Decimal
    channel_price: Decimal
    channel_rule: str = ""
    discount: Decimal = ZERO
    promotions: list[dict] = field(default_factory=list)
    is_gift: bool = False
    gift_campaign: str = ""
    source_index: int | None = None  # index in the input, None for a gift added here

    @property
    def gross(self) -> Decimal:
        return _money(self.channel_price * self.quantity)

    @property
    def final_line_total(self) -> Decimal:
        return self.gross - self.discount


@dataclass
class PricingResult:
    lines: list[PricedLine]
    claims: dict[str, bool]  # campaign code -> once per customer

    @property
    def discount_total(self) -> Decimal:
        return sum((line.discount for line in self.lines), ZERO)


def price_order(
    lines: list[LineToPrice],
    promotions: list[PromotionRule],
    *,
    excluded_campaigns: frozenset[str] = frozenset(),
) -> PricingResult:
    """Price ``lines`` with ``promotions`` in the order the module docstring gives."""
    promotions = [p for p in promotions if p.campaign_code not in excluded_campaigns]
    claims: dict[str, bool] = {}
    priced = _priced_lines(lines, excluded_campaigns, claims)
    paid = [line for line in priced if not line.is_gift]
    _apply_percentages(paid, promotions, claims)
    _apply_best_threshold(paid, promotions, claims)
    _add_gifts(priced, paid, promotions, claims)
    return PricingResult(lines=priced, claims=claims)


def _claim(claims: dict[str, bool], rule: PromotionRule) -> None:
    claims[rule.campaign_code] = claims.get(rule.campaign_code, False) or rule.once_per_customer


def _priced_lines(
    lines: list[LineToPrice], excluded_campaigns: frozenset[str], claims: dict[str, bool]
) -> list[PricedLine]:
    """Paid lines at their channel price; gift lines the channel sent at 0 (claiming their
    campaign), except those of an excluded campaign."""
    priced: list[PricedLine] = []
    for index, line in enumerate(lines):
        if line.is_gift:
            if line.campaign_code and line.campaign_code in excluded_campaigns:
                continue
            if line.campaign_code:
                claims[line.campaign_code] = True
            priced.append(
                PricedLine(
                    line.sku,
                    line.quantity,
                    line.list_price,
                    ZERO,
                    "gift sent by the channel",
                    is_gift=True,
                    gift_campaign=line.campaign_code,
                    source_index=index,
                )
            )
            continue
        priced.append(
            PricedLine(
                line.sku,
                line.quantity,
                line.list_price,
                line.channel_price,
                line.channel_rule,
                source_index=index,
            )
        )
    return priced


def _apply_percentages(
    paid: list[PricedLine], promotions: list[PromotionRule], claims: dict[str, bool]
) -> None:
    """The best percentage off on each line (not stacked; ties to the lowest rule id)."""
    for line in paid:
        best = max(
            (
                p
                for p in promotions
                if p.kind == "percentage" and p.covers(line.sku) and p.percent_off > 0
            ),
            key=lambda p: (p.percent_off, -p.id),
            default=None,
        )
        if best is not None:
            amount = _money(line.gross * best.percent_off / 100)
            _apply(line, best, amount)
            _claim(claims, best)


def _eligible(rule: PromotionRule, paid: list[PricedLine]) -> tuple[list[PricedLine], Decimal]:
    """The paid lines ``rule`` covers and their subtotal after the discounts so far."""
    chosen = [line for line in paid if rule.covers(line.sku)]
    return chosen, sum((line.final_line_total for line in chosen), ZERO)


def _apply_best_threshold(
    paid: list[PricedLine], promotions: list[PromotionRule], claims: dict[str, bool]
) -> None:
    """The largest threshold discount that qualifies, allocated over its lines in proportion
    to their totals; the last line takes the rounding remainder."""
    qualifying = []
    for rule in promotions:
        if rule.kind != "threshold" or rule.discount_amount <= 0:
            continue
        chosen, subtotal = _eligible(rule, paid)
        if chosen and subtotal > 0 and subtotal >= rule.threshold:
            qualifying.append((min(rule.discount_amount, subtotal), rule, chosen, subtotal))
    if not qualifying:
        return
    amount, rule, chosen, subtotal = max(qualifying, key=lambda q: (q[0], -q[1].id))
    remaining = amount
    for position, line in enumerate(chosen):
        share = (
            remaining
            if position == len(chosen) - 1
            else min(_money(amount * line.final_line_total / subtotal), remaining)
        )
        share = min(share, line.final_line_total)
        remaining -= share
        _apply(line, rule, share)
    _claim(claims, rule)


def _add_gifts(
    priced: list[PricedLine],
    paid: list[PricedLine],
    promotions: list[PromotionRule],
    claims: dict[str, bool],
) -> None:
    """A gift line at 0 for every gift rule whose threshold is met, unless the channel
    already sent that campaign's gift (then only the claim)."""
    sent_gift_campaigns = {
        line.gift_campaign for line in priced if line.is_gift and line.gift_campaign
    }
    for rule in promotions:
        if rule.kind != "gift" or not rule.gift_sku:
            continue
        chosen, subtotal = _eligible(rule, paid)
        if not chosen or subtotal < rule.threshold:
            continue
        _claim(claims, rule)
        if rule.campaign_code in sent_gift_campaigns:
            continue  # the channel already put this campaign's gift on the order
        sent_gift_campaigns.add(rule.campaign_code)
        priced.append(
            PricedLine(
                rule.gift_sku,
                rule.gift_quantity,
                rule.gift_list_price,
                ZERO,
                f"gift of {rule.campaign_code}",
                is_gift=True,
                gift_campaign=rule.campaign_code,
                promotions=[
                    {
                        "id": rule.id,
                        "campaign": rule.campaign_code,
                        "kind": "gift",
                        "amount": "0.00",
                    }
                ],
            )
        )


def _apply(line: PricedLine, rule: PromotionRule, amount: Decimal) -> None:
    if amount <= 0:
        return
    line.discount += amount
    line.promotions.append(
        {"id": rule.id, "campaign": rule.campaign_code, "kind": rule.kind, "amount": str(amount)}
    )
