"""Li+ diffusion studies (polymers with LiFSI, LLZO)."""
