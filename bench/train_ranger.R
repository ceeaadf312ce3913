# Peer of bench/train.sh: ranger's random forest (probability forest, 100
# trees, 2 threads). Usage: Rscript train_ranger.R TRAIN.csv TEST.csv PRED_OUT [TREES] [THREADS]
# Missing cells are imputed by the training median (ranger 0.14 rejects NA).
args <- commandArgs(trailingOnly = TRUE)
trees <- if (length(args) >= 4) as.integer(args[4]) else 100L
threads <- if (length(args) >= 5) as.integer(args[5]) else 2L
suppressMessages(library(ranger))
train <- read.csv(args[1])
test <- read.csv(args[2])
for (c in setdiff(names(train), "label")) {
  m <- median(train[[c]], na.rm = TRUE)
  if (is.na(m)) m <- 0
  train[[c]][is.na(train[[c]])] <- m
  test[[c]][is.na(test[[c]])] <- m
}
train$label <- factor(train$label, levels = c(0, 1))
cpu <- function() { t <- proc.time(); t[["user.self"]] + t[["sys.self"]] }
t0 <- proc.time()[["elapsed"]]
c0 <- cpu()
rf <- ranger(dependent.variable.name = "label", data = train, num.trees = trees,
             num.threads = threads, probability = TRUE, seed = 1, verbose = FALSE)
fit <- proc.time()[["elapsed"]] - t0
fit_cpu <- cpu() - c0
t0 <- proc.time()[["elapsed"]]
p <- predict(rf, data = test, num.threads = threads)$predictions[, "1"]
pred <- proc.time()[["elapsed"]] - t0
writeLines(format(p, digits = 17), args[3])
cat(sprintf('{"tool": "ranger", "fit_seconds": %.6f, "fit_cpu_seconds": %.6f, "predict_seconds": %.6f}\n', fit, fit_cpu, pred))
