"""Template helpers of training pages (the staff status page, the admin): a run's loss curve and its metrics."""
from django import template
from django.utils.html import format_html, format_html_join

from recommender.training.quality import metrics_in_order

register = template.Library()


@register.simple_tag
def loss_curve(losses, width: int = 560, height: int = 180):
    """An inline SVG line chart of a training run's loss per epoch (nothing when there is no epoch yet).

    Drawn on the staff page and in the admin; its colours are attributes, so it looks right without the site's
    stylesheet (which overrides them)."""
    values = [float(loss) for loss in losses or [] if loss is not None]
    if not values:
        return ""
    pad_left, pad_right, pad_top, pad_bottom = 48, 12, 12, 28
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    inner_width, inner_height = width - pad_left - pad_right, height - pad_top - pad_bottom
    step = inner_width / max(len(values) - 1, 1)
    points = [
        (pad_left + i * step, pad_top + inner_height * (1 - (value - low) / span)) for i, value in enumerate(values)
    ]
    polyline = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = format_html_join(
        "", '<circle cx="{}" cy="{}" r="3" fill="#417690"><title>epoch {}: loss {}</title></circle>',
        ((f"{x:.1f}", f"{y:.1f}", i + 1, f"{value:.4f}") for i, ((x, y), value) in enumerate(zip(points, values))),
    )
    return format_html(
        '<svg class="loss-curve" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" font-size="11" '
        'aria-label="Loss per epoch, from {first} to {last}">'
        '<line class="axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/>'
        '<line class="axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#999"/>'
        '<text x="{lt}" y="{t2}" text-anchor="end">{high}</text><text x="{lt}" y="{b}" text-anchor="end">{low}</text>'
        '<text x="{l}" y="{h2}">epoch 1</text><text x="{r}" y="{h2}" text-anchor="end">epoch {n}</text>'
        '<polyline points="{points}" fill="none" stroke="#417690" stroke-width="2"/>{dots}</svg>',
        w=width, h=height, l=pad_left, r=width - pad_right, t=pad_top, b=pad_top + inner_height, lt=pad_left - 6,
        t2=pad_top + 10, h2=height - 6, high=f"{high:.3f}", low=f"{low:.3f}", first=f"{values[0]:.4f}",
        last=f"{values[-1]:.4f}", n=len(values),
        points=polyline, dots=dots,
    )


@register.filter
def metric(value) -> str:
    """A training metric or count: 250 → "250", 12345 → "12,345", 0.91 → "0.910"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return str(value)


@register.filter(name="metrics_in_order")
def metrics_in_order_filter(metrics: dict) -> list:
    """A run's or version's figures in the order people read them (``recommender.services.quality``)."""
    return metrics_in_order(metrics or {})
