"""The digit data on disk: MNIST's IDX files, Kaggle's CSV files, Kaggle submissions."""
