"""A faithful local fake of Asana's REST API 1.0, for the tap's tests, demos and benchmarks.

    from fake_asana import FakeAsana
    with FakeAsana(preset="tiny", seed=1) as fa:
        requests.get(fa.api_url + "/users/me", headers={"Authorization": f"Bearer {fa.pat}"})
"""
from .fake import FakeAsana
from .options import Options
from .sizes import PRESETS, Sizes

__all__ = ["FakeAsana", "Options", "Sizes", "PRESETS"]
