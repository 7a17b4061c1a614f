#!/usr/bin/env bash
# Issue 13's analyses of every registered architecture (one epoch on Fashion-MNIST): scripts/analyse_runs.sh with the
# Fourier heat map on every second frequency.
#
#   bash scripts/architectures_analysis.sh results/architectures-fashion-mnist-1ep [SUBSET]
set -euo pipefail
exec bash "$(dirname "$0")/analyse_runs.sh" "$1" "${2:-500}" 2
