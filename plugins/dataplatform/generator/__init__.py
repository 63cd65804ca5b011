"""The demo world generator: the platform's stand-in for production traffic.

    from dataplatform.generator import generate_world
    summary = generate_world(Path("data"), days=7, users=50_000, seed=42)

writes landing/events/dt=*/part-*.jsonl[.gz], source/marketplace.sqlite and world/*.json
under the data directory. See README.md in this folder for what a consumer must know.
"""

from dataplatform.generator.params import DEFAULT_START_DATE, GeneratorError
from dataplatform.generator.world import WorldSummary, generate_world

__all__ = ["DEFAULT_START_DATE", "GeneratorError", "WorldSummary", "generate_world"]
