#!/usr/bin/python3
"""placeholder, rewritten below"""
import torch, torch.nn as nn, time, statistics

def _div(v, d=8):
    nv = max(d, int(v + d / 2) // d * d)
    if nv < 0.9 * v:
        nv += d
    return nv

class LeNet5(nn.Module):
    def __init__(self, c, k):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, k)
        self.pool = nn.MaxPool2d(2)
    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))

class Basic(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.down = None
        if stride != 1 or inp != planes:
            self.down = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (self.down(x) if self.down is not None else x))

class ResNet18(nn.Module):
    def __init__(self, c, k):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(c, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        layers, inp = [], 64
        for s, planes in enumerate((64, 128, 256, 512)):
            for b in range(2):
                layers.append(Basic(inp, planes, 2 if b == 0 and s > 0 else 1))
                inp = planes
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, k)
    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

def cbr6(inp, oup, k, stride, groups):
    return [nn.Conv2d(inp, oup, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True)]

class InvRes(nn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = int(round(inp * t))
        layers = cbr6(inp, hidden, 1, 1, 1) if t != 1 else []
        layers += cbr6(hidden, hidden, 3, stride, hidden)
        layers += [nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.res = stride == 1 and inp == oup
    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)

class MobileNetV2(nn.Module):
    def __init__(self, c, k, width=0.5, small=True):
        super().__init__()
        setting = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        inp = _div(32 * width)
        feats = cbr6(c, inp, 3, 1 if small else 2, 1)
        seen = False
        for t, ch, n, s in setting:
            oc = _div(ch * width)
            for i in range(n):
                stride = s if i == 0 else 1
                if stride == 2 and not seen:
                    seen = True
                    if small:
                        stride = 1
                feats.append(InvRes(inp, oc, stride, t))
                inp = oc
        feats += cbr6(inp, 1280, 1, 1, 1)
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Linear(1280, k)
    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

def build(name, c, k):
    return {'lenet5': LeNet5, 'resnet18': ResNet18, 'mobilenetv2': MobileNetV2}[name](c, k)

def torch_rates(name, batch, shape, k, steps, warmup, repeat, channels_last=False):
    torch.manual_seed(0)
    m = build(name, shape[0], k)
    x = torch.randn(batch, *shape)
    y = torch.randint(0, k, (batch,))
    if channels_last:
        m = m.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    lossf = nn.CrossEntropyLoss()
    def train():
        opt.zero_grad(set_to_none=True)
        lossf(m(x), y).backward()
        opt.step()
    def infer():
        with torch.inference_mode():
            m(x)
    out = []
    for fn, mode in ((train, True), (infer, False)):
        m.train(mode)
        for _ in range(warmup):
            fn()
        rates = []
        for _ in range(repeat):
            t = time.perf_counter()
            for _ in range(steps):
                fn()
            rates.append(batch * steps / (time.perf_counter() - t))
        out.append(statistics.median(rates))
    return out
