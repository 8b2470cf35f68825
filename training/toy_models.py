"""The toy world model in Stable Diffusion 3's diffusers layout, at a width two CPU cores can
train: the same classes (SD3Transformer2DModel, AutoencoderKL, two CLIPTextModelWithProjection,
FlowMatchEulerDiscreteScheduler), so `npm run convert` builds its pack and diffusers runs it.

Sizes: 128 px images; the 8x VAE gives 16 x 16 x 16 latents; patch 2 gives 8 x 8 = 64 image
tokens; the positional table is 24 x 24 patches, so the image's centred crop (rows 8..15, columns
8..15) and its reference one image width to the right (columns 16..23) both fit. qk RMSNorm (as
SD3.5) keeps the attention logits tame at the learning rate a small model wants."""
from __future__ import annotations

from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel
from transformers import CLIPTextConfig, CLIPTextModelWithProjection

IMAGE = 128
LATENT_CHANNELS = 16
DOWNSAMPLE = 8
TEXT_DIM = 64  # each CLIP-style encoder; the joint text width is 2 * 64 (no T5)
HEADS, HEAD_DIM = 2, 64
LAYERS = 4
TABLE = 24


def make_vae() -> AutoencoderKL:
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,  # 3 downsamples: 8x, as SD3's VAE
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 32, 64, 64),
        layers_per_block=1,
        act_fn="silu",
        latent_channels=LATENT_CHANNELS,
        norm_num_groups=8,
        sample_size=IMAGE,
        scaling_factor=1.0,  # set from the trained encoder's latent statistics
        shift_factor=0.0,
        latents_mean=None,
        latents_std=None,
        force_upcast=True,
        use_quant_conv=False,
        use_post_quant_conv=False,
        mid_block_add_attention=True,
    )


def make_transformer() -> SD3Transformer2DModel:
    return SD3Transformer2DModel(
        # sample_size only sets the sin-cos table's scale (positions i * base / table with base =
        # sample_size / patch): 48 gives one unit per patch, so the fastest frequency turns a full
        # radian from one patch to the next (16 would give a third) and "one image width to the
        # right" is a sharp offset to learn. The studio never reads it (the pack stores the table).
        sample_size=48,
        patch_size=2,
        in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS,
        num_layers=LAYERS,
        attention_head_dim=HEAD_DIM,
        num_attention_heads=HEADS,
        joint_attention_dim=2 * TEXT_DIM,
        caption_projection_dim=HEADS * HEAD_DIM,
        pooled_projection_dim=2 * TEXT_DIM,
        pos_embed_max_size=TABLE,
        dual_attention_layers=(),
        qk_norm="rms_norm",
    )


def make_text_encoder(vocab_size: int, act: str) -> CLIPTextModelWithProjection:
    """CLIP-L (quick_gelu) and bigG (gelu) in miniature; legacy ids as the real SD3 configs carry."""
    return CLIPTextModelWithProjection(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=TEXT_DIM,
            intermediate_size=4 * TEXT_DIM,
            num_hidden_layers=3,
            num_attention_heads=2,
            projection_dim=TEXT_DIM,
            hidden_act=act,
            max_position_embeddings=77,
            layer_norm_eps=1e-5,
            bos_token_id=0,
            eos_token_id=2,
            pad_token_id=1,
        )
    )


def make_scheduler() -> FlowMatchEulerDiscreteScheduler:
    # SD3's shift 3 is for 1024 px; 64 tokens want much less noise-level shift.
    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)
