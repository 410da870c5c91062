"""Share intents and QR codes for an invite link (pure functions)."""

from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg


def share_links(link: str, inviter_name: str, campaign_name: str) -> dict[str, str]:
    text = f"{inviter_name} invited you to {campaign_name}. Here's your personal invite:"
    return {
        "X": "https://twitter.com/intent/tweet?" + urlencode({"text": text, "url": link}),
        "LinkedIn": "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": link}),
        "WhatsApp": "https://wa.me/?" + urlencode({"text": f"{text} {link}"}),
        "E-mail": f"mailto:?subject={quote(f'An invite to {campaign_name}')}"
        f"&body={quote(f'{text} {link}')}",
    }


def qr_svg(link: str) -> bytes:
    """The link as an SVG QR code (medium error correction, quiet zone included)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(link)
    return qr.make_image(image_factory=qrcode.image.svg.SvgPathImage).to_string()
