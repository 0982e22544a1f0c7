"""One peer's s/epoch on MNIST for the three paper-2019 nets, as mnist-lab's bench trains them:
Dense -> ReLU -> BatchNorm -> Dropout(0.5) on every hidden layer, softmax output, Adam(1e-3),
batch 128, shuffled, the test set evaluated after every epoch. Prints one JSON line per net.

usage: peers.py {keras-jax|torch} DATA_DIR EPOCHS [ARCH]   (ARCH e.g. 512-128; default all)
       peers.py study-keras DATA_DIR EPOCHS RUN_JSON K N      (units K, K+N, ... of a run)
"""
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np

ARCHS = [[512, 128], [512, 256, 128], [512, 256, 128, 64, 32]]


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(data_dir, name):
    for candidate in (name, name + ".gz"):
        p = os.path.join(data_dir, candidate)
        if os.path.exists(p):
            return p
    raise SystemExit(f"{data_dir}: no {name}(.gz)")


def load(data_dir):
    x = idx(find(data_dir, "train-images-idx3-ubyte")).reshape(-1, 784).astype("float32") / 255
    y = idx(find(data_dir, "train-labels-idx1-ubyte")).astype("int64")
    xt = idx(find(data_dir, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype("float32") / 255
    yt = idx(find(data_dir, "t10k-labels-idx1-ubyte")).astype("int64")
    return x, y, xt, yt


def keras_jax(data, epochs):
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    x, y, xt, yt = data
    for arch in ARCHS:
        keras.utils.set_random_seed(2019)
        layers = [keras.Input((784,))]
        for h in arch:
            layers += [
                keras.layers.Dense(h, activation="relu"),
                keras.layers.BatchNormalization(),
                keras.layers.Dropout(0.5),
            ]
        layers.append(keras.layers.Dense(10, activation="softmax"))
        model = keras.Sequential(layers)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        times = []

        class Clock(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.t)

        hist = model.fit(
            x, y, batch_size=128, epochs=epochs, validation_data=(xt, yt),
            callbacks=[Clock()], verbose=0,
        )
        report("keras-jax", arch, times, hist.history["val_accuracy"][-1], keras.__version__)


def torch_eager(data, epochs):
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    x, y, xt, yt = (torch.from_numpy(a) for a in data)
    for arch in ARCHS:
        torch.manual_seed(2019)
        mods, inp = [], 784
        for h in arch:
            mods += [
                torch.nn.Linear(inp, h),
                torch.nn.ReLU(),
                torch.nn.BatchNorm1d(h, eps=1e-3, momentum=0.01),
                torch.nn.Dropout(0.5),
            ]
            inp = h
        mods.append(torch.nn.Linear(inp, 10))
        model = torch.nn.Sequential(*mods)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()
        times, acc = [], 0.0
        for _ in range(epochs):
            t = time.perf_counter()
            model.train()
            for idx in torch.randperm(len(x)).split(128):
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                correct = 0
                for i in range(0, len(xt), 1000):
                    logits = model(xt[i : i + 1000])
                    loss_fn(logits, yt[i : i + 1000])
                    correct += (logits.argmax(1) == yt[i : i + 1000]).sum().item()
            acc = correct / len(xt)
            times.append(time.perf_counter() - t)
        report("torch", arch, times, acc, torch.__version__)


def study_keras(data, epochs, run_json, k, n):
    """Study mode: units k, k+n, ... of a mnist-lab run (its run.json gives each unit's net,
    BN+Dropout placement, dropout rate, optimiser and seed), each trained as Keras would
    train it, one after another; prints one JSON line per unit and one for the total."""
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    x, y, xt, yt = data
    with open(run_json) as f:
        units = json.load(f)["units"]
    start = time.perf_counter()
    done = 0
    for i in range(k, len(units), n):
        spec = units[i]["spec"]
        hidden = [int(w) for w in spec["arch"].split("-")]
        place = spec["placement"]
        keras.utils.set_random_seed(spec["seed"])
        layers = [keras.Input((784,))]
        for j, h in enumerate(hidden):
            layers.append(keras.layers.Dense(h, activation="relu", kernel_initializer="he_normal"))
            if place == "Every" or (place == "First" and j == 0) or (place == "Last" and j == len(hidden) - 1):
                layers += [keras.layers.BatchNormalization(), keras.layers.Dropout(spec["dropout"])]
        layers.append(keras.layers.Dense(10, activation="softmax"))
        model = keras.Sequential(layers)
        opt = spec["optimizer"]
        if "Adam" in opt:
            a = opt["Adam"]
            optimizer = keras.optimizers.Adam(a["lr"], beta_1=a["beta1"], beta_2=a["beta2"], epsilon=a["eps"])
        elif "Adadelta" in opt:
            a = opt["Adadelta"]
            optimizer = keras.optimizers.Adadelta(a["lr"], rho=a["rho"], epsilon=a["eps"])
        else:
            raise SystemExit(f"unit {i}: optimiser {opt} not in study mode")
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        t = time.perf_counter()
        hist = model.fit(x, y, batch_size=spec["batch_size"], epochs=epochs,
                         validation_data=(xt, yt), verbose=0)
        print(json.dumps({"peer": "keras-jax", "unit": i, "name": spec["name"], "seed": spec["seed"],
                          "seconds": time.perf_counter() - t,
                          "test_acc": float(hist.history["val_accuracy"][-1])}), flush=True)
        done += 1
    print(json.dumps({"peer": "keras-jax", "shard": f"{k}/{n}", "units": done,
                      "seconds": time.perf_counter() - start, "version": keras.__version__}), flush=True)


def report(peer, arch, times, acc, version):
    # Median over epochs 2.. (the first pays for compilation and warm-up).
    steady = times[1:] or times
    print(json.dumps({
        "peer": peer, "version": version, "arch": "-".join(map(str, arch)),
        "seconds_per_epoch": statistics.median(steady), "epochs": times, "test_acc": float(acc),
    }), flush=True)


if __name__ == "__main__":
    peer, data_dir, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if peer == "study-keras":
        # study-keras DATA EPOCHS RUN_JSON K N
        study_keras(load(data_dir), epochs, sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
        sys.exit(0)
    if len(sys.argv) > 4:
        ARCHS[:] = [[int(w) for w in sys.argv[4].split("-")]]
    data = load(data_dir)
    {"keras-jax": keras_jax, "torch": torch_eager}[peer](data, epochs)
