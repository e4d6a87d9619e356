# `nix fmt`: nixfmt, the RFC 166 style every .nix file here is written in.
{ pkgs, ... }: pkgs.nixfmt-rfc-style
